// Artifier Studio: find, paint, browse. Plain JS over the /api routes; nothing from outside.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { photo: null, painting: null, job: null, events: null, boxes: null, blend: new Set() };

async function api(path, options = {}) {
  const response = await fetch("/api" + path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = body.detail;
    throw new Error(typeof detail === "string" ? detail : (detail && detail[0] && detail[0].msg) || response.statusText);
  }
  return body;
}
const postJson = (path, data) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  children.forEach((child) => node.append(child));
  return node;
}

async function upload(file) {
  const form = new FormData();
  form.append("file", file);
  return api("/uploads", { method: "POST", body: form });
}

// 1. Photo
async function takePhoto(file) {
  $("find-error").textContent = "";
  try {
    const up = await upload(file);
    state.photo = up.id;
    $("photo").src = `/api/uploads/${up.id}.png`;
    $("photo").hidden = false;
    $("drop-text").textContent = `${up.width} × ${up.height} · drop another to change`;
    await findMatches();
  } catch (error) { $("find-error").textContent = error.message; }
  updatePaintButton();
}

// 2. Matches
async function findMatches() {
  if (!state.photo) return;
  if (state.info.no_index) { $("match-status").textContent = `No index: ${state.info.no_index}. Use your own painting.`; return; }
  const style = $("style-filter").value || null;
  $("match-status").textContent = "Finding paintings…";
  const found = await postJson("/matches", { photo: state.photo, top: state.info.defaults.matches, style });
  state.matches = found.matches;
  state.blend.clear();
  $("matches").replaceChildren(...found.matches.map(matchCard));
  $("match-status").textContent = `${found.matches.length} best matches${style ? " in " + style : ""}, from ${found.photo_patches} photo patches. Pick one.`;
  const first = $("matches").firstChild;
  if (first) first.click();
}

function matchCard(m) {
  const name = m.artist ? `${m.artist}, ${m.title}` : m.title;
  const card = el("div", { className: "card match", title: `${name} (${m.year || "?"}) score ${m.score}` },
    el("img", { src: `/api/art/${m.id}?thumb=1`, alt: name, loading: "lazy" }),
    el("b", { textContent: m.title || "untitled" }), el("span", { textContent: m.artist }),
    el("span", { className: "muted", textContent: `${m.style} · ${m.score.toFixed(1)}` }));
  card.onclick = () => choosePainting({ art: m.id }, `/api/art/${m.id}`, name, card);
  // Ticked cards are painted together by "Blend the selected".
  const tick = el("input", { type: "checkbox", title: "blend with the other ticked matches" });
  tick.onclick = (event) => {
    event.stopPropagation();
    if (tick.checked) state.blend.add(m.id); else state.blend.delete(m.id);
    updatePaintButton();
  };
  card.append(el("label", { className: "blend-tick", onclick: (event) => event.stopPropagation() }, tick, " blend"));
  return card;
}

function choosePainting(painting, url, name, card) {
  state.painting = { ...painting, url, name };
  document.querySelectorAll(".card.chosen").forEach((c) => c.classList.remove("chosen"));
  if (card) card.classList.add("chosen");
  updatePaintButton();
}

// 3. Paint
function updatePaintButton() {
  $("paint-button").disabled = !(state.photo && state.painting) || Boolean(state.job);
  $("paint-top-button").disabled = !(state.photo && state.matches && state.matches.length) || Boolean(state.job);
  $("blend-button").disabled = !(state.photo && state.blend.size >= 2) || Boolean(state.job);
  $("blend-button").textContent = `Blend the selected${state.blend.size ? ` (${state.blend.size})` : ""}`;
}

function settings() {
  return { size: Number($("size").value), schedule: $("schedule").value,
    strength: $("strength-auto").checked ? "auto" : Number($("strength").value),
    preserve_colour: $("preserve-colour").checked };
}

async function paint() {
  $("paint-error").textContent = "";
  try {
    const job = await postJson("/jobs", { photo: state.photo, ...settings(),
      art: state.painting.art ?? null, painting: state.painting.upload ?? null });
    state.job = job.id;
    showTriptych(`/api/uploads/${state.photo}.png`, state.painting.url, state.painting.name, null);
    $("progress").hidden = false; $("cancel-button").hidden = false; $("result-links").hidden = true;
    updatePaintButton();
    follow(job.id);
  } catch (error) { $("paint-error").textContent = error.message; }
}

// The photo with each of its first TOP_N matches: queued one after another, each lands in
// the gallery as it finishes, and the first is followed here.
const TOP_N = 5;
async function paintTop() {
  $("paint-error").textContent = "";
  try {
    const ids = [];
    for (const m of state.matches.slice(0, TOP_N)) {
      ids.push((await postJson("/jobs", { photo: state.photo, ...settings(), art: m.id, painting: null })).id);
    }
    for (const id of ids.slice(1)) {
      const events = new EventSource(`/api/jobs/${id}/events`);
      events.onmessage = (message) => {
        if (["done", "failed", "cancelled"].includes(JSON.parse(message.data).state)) { events.close(); refreshGallery(); }
      };
    }
    const first = state.matches[0];
    state.job = ids[0];
    showTriptych(`/api/uploads/${state.photo}.png`, `/api/art/${first.id}`, first.title, null);
    $("progress").hidden = false; $("cancel-button").hidden = false; $("result-links").hidden = true;
    updatePaintButton();
    follow(ids[0]);
  } catch (error) { $("paint-error").textContent = error.message; }
}

// The photo painted with the ticked matches together: each of its parts takes its best
// piece from any of them.
async function paintBlend() {
  $("paint-error").textContent = "";
  try {
    const chosen = state.matches.filter((m) => state.blend.has(m.id));
    const job = await postJson("/jobs", { photo: state.photo, ...settings(), arts: chosen.map((m) => m.id) });
    state.job = job.id;
    showTriptych(`/api/uploads/${state.photo}.png`, `/api/art/${chosen[0].id}`, chosen.map((m) => m.title).join(" + "), null);
    $("progress").hidden = false; $("cancel-button").hidden = false; $("result-links").hidden = true;
    updatePaintButton();
    follow(job.id);
  } catch (error) { $("paint-error").textContent = error.message; }
}

function follow(jobId) {
  const events = new EventSource(`/api/jobs/${jobId}/events`);
  state.events = events;
  let shown = 0;
  events.onmessage = (message) => {
    const job = JSON.parse(message.data);
    $("bar-fill").style.width = `${(100 * job.fraction).toFixed(1)}%`;
    const left = job.seconds_left == null ? "" : ` · about ${Math.ceil(job.seconds_left)} s left`;
    $("progress-text").textContent = job.state === "queued" ? `waiting: ${job.ahead} painting(s) ahead`
      : job.state === "running" ? (job.total ? `step ${job.step} of ${job.total}${left}` : "laying the collage…")
      : job.state;
    if (job.preview !== shown) { shown = job.preview; $("t-result").src = `/api/jobs/${jobId}/preview.png?v=${shown}`; }
    if (["done", "failed", "cancelled"].includes(job.state)) finish(job);
  };
  events.onerror = () => { if (events.readyState === EventSource.CLOSED) finish({ state: "failed", message: "lost the connection" }); };
}

async function finish(job) {
  state.events.close();
  state.job = null;
  $("cancel-button").hidden = true;
  updatePaintButton();
  if (job.state === "failed") $("paint-error").textContent = job.message;
  if (job.state === "done") { await openResult(job.result); refreshGallery(); }
}

function showTriptych(photoUrl, paintingUrl, paintingName, resultUrl) {
  $("triptych").hidden = false;
  $("t-photo").src = photoUrl; $("t-painting").src = paintingUrl;
  $("t-painting-name").textContent = paintingName;
  $("t-result").removeAttribute("src");
  if (resultUrl) $("t-result").src = resultUrl;
  $("highlight").hidden = true; state.boxes = null; state.blendOf = null;
}

async function openResult(id) {
  const r = await api(`/results/${id}`);
  const base = `/api/results/${id}`;
  showTriptych(`${base}/photo.png`, `${base}/painting.png`, r.painting_name, `${base}/result.png`);
  const t = r.settings.artifier.transfer;
  $("t-result-caption").textContent = `result · ${t.size} px · strength ${Number(t.strength).toFixed(2)} · ${r.seconds.toFixed(0)} s`;
  state.boxes = r.boxes;
  // A blend: which painting each block came from; the middle panel shows that one.
  state.blendOf = r.painting_of ? { of: r.painting_of, names: r.paintings, base, shown: 0 } : null;
  $("download").href = `${base}/result.png?download=1`;
  $("provenance-link").href = `${base}/provenance.png`;
  $("provenance-link").hidden = !r.boxes;
  $("result-links").hidden = false;
  $("triptych").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// Provenance: the block under the pointer, and the painting box its piece came from.
function pointAt(event) {
  if (!state.boxes) return;
  const img = $("t-result"), rect = img.getBoundingClientRect();
  const rows = state.boxes.length, cols = state.boxes[0].length;
  const r = Math.min(rows - 1, Math.floor((event.clientY - rect.top) / rect.height * rows));
  const c = Math.min(cols - 1, Math.floor((event.clientX - rect.left) / rect.width * cols));
  if (r < 0 || c < 0) return;
  place($("cursor-box"), img, [c / cols, r / rows, (c + 1) / cols, (r + 1) / rows]);
  const blend = state.blendOf;
  if (blend && blend.of[r][c] !== blend.shown) {
    blend.shown = blend.of[r][c];
    $("t-painting").src = `${blend.base}/${blend.shown ? `painting-${blend.shown}` : "painting"}.png`;
    $("t-painting").onload = () => place($("highlight"), $("t-painting"), state.boxes[r][c]);
  }
  if (blend) $("t-painting-name").textContent = `${blend.names[blend.shown]} (${blend.shown + 1} of ${blend.names.length})`;
  place($("highlight"), $("t-painting"), state.boxes[r][c]);
}

function place(box, img, [x0, y0, x1, y1]) {
  Object.assign(box.style, { left: `${img.offsetLeft + x0 * img.clientWidth}px`, top: `${img.offsetTop + y0 * img.clientHeight}px`,
    width: `${(x1 - x0) * img.clientWidth}px`, height: `${(y1 - y0) * img.clientHeight}px` });
  box.hidden = false;
}

// Gallery
async function refreshGallery() {
  const results = await api("/results");
  $("results").replaceChildren(...results.map((r) => {
    const t = r.settings.artifier.transfer;
    const actions = el("div", { className: "actions" },
      el("button", { textContent: "Open", onclick: () => openResult(r.id) }),
      el("button", { textContent: "Compare", onclick: () => compare(r) }),
      el("button", { textContent: "Delete", onclick: async () => {
        await api(`/results/${r.id}`, { method: "DELETE" });
        document.querySelectorAll(`#compare [data-id="${r.id}"]`).forEach((f) => f.remove());
        $("compare").hidden = !$("compare").children.length;
        refreshGallery();
      } }));
    return el("div", { className: "card result" }, el("img", { src: `/api/results/${r.id}/result.png`, alt: r.painting_name, loading: "lazy" }),
      el("b", { textContent: r.painting_name }), el("span", { className: "muted", textContent: `${t.size} px · ${new Date(r.created * 1000).toLocaleString()}` }), actions);
  }));
}

function compare(r) {
  const strip = $("compare");
  if (strip.querySelector(`[data-id="${r.id}"]`)) return;
  strip.hidden = false;
  const figure = el("figure", {}, el("img", { src: `/api/results/${r.id}/result.png`, alt: r.painting_name }),
    el("figcaption", { textContent: `${r.painting_name} · strength ${Number(r.settings.artifier.transfer.strength).toFixed(2)}` }));
  figure.dataset.id = r.id;
  strip.append(figure);
  while (strip.children.length > 3) strip.firstChild.remove();
}

async function start() {
  state.info = await api("/info");
  const d = state.info.defaults;
  $("info").textContent = state.info.no_index ? `no index (${state.info.index}) · ${state.info.device}`
    : `${state.info.artworks} artworks in ${state.info.index} · ${state.info.device}`;
  for (const style of state.info.styles) $("style-filter").append(el("option", { value: style[0], textContent: `${style[0]} (${style[1]})` }));
  for (const size of [128, 256, 384, 512, 768, 1024, 2048]) $("size").append(el("option", { value: size, textContent: `${size} px`, selected: size === d.size }));
  for (const name of ["auto", ...state.info.schedules]) $("schedule").append(el("option", { value: name, textContent: name, selected: name === d.schedule }));
  $("preserve-colour").checked = d.preserve_colour;
  if (d.strength !== "auto") { $("strength-auto").checked = false; $("strength").disabled = false; $("strength").value = d.strength; }
  refreshGallery();
  const running = (await api("/jobs")).find((job) => job.state === "running");
  if (running) followElsewhere(running);
}

// A painting started in another tab: show its progress and preview here too.
function followElsewhere(job) {
  state.job = job.id;
  $("triptych").hidden = false;
  $("t-painting-name").textContent = job.title;
  $("progress").hidden = false; $("cancel-button").hidden = false;
  updatePaintButton();
  follow(job.id);
}

$("photo-file").onchange = (e) => e.target.files[0] && takePhoto(e.target.files[0]);
$("painting-file").onchange = async (e) => {
  if (!e.target.files[0]) return;
  try {
    const up = await upload(e.target.files[0]);
    choosePainting({ upload: up.id }, `/api/uploads/${up.id}.png`, "your painting", null);
  } catch (error) { $("find-error").textContent = error.message; }
};
const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) takePhoto(e.dataTransfer.files[0]); };
$("style-filter").onchange = () => findMatches().catch((error) => { $("find-error").textContent = error.message; });
$("strength-auto").onchange = (e) => { $("strength").disabled = e.target.checked; };
$("paint-button").onclick = paint;
$("paint-top-button").onclick = paintTop;
$("blend-button").onclick = paintBlend;
$("cancel-button").onclick = () => state.job && api(`/jobs/${state.job}`, { method: "DELETE" }).catch(() => {});
$("t-result").onmousemove = pointAt;
$("t-result").onclick = pointAt;
start();
