"""FAISS shards merged as the Ray engine merges them (index_build/ray_faiss.py) make the
index one process fills, for both kinds of lists: on disk, and fast-scan in memory."""
import faiss
import numpy as np
import pytest

from core.patch_vectors import patch_vectors
from index_build import catalog as cat
from index_build.faiss_index import add_artworks, is_fast_scan, train_index
from index_build.ray_faiss import merge_shards
from index_build.store import FeatureStore


@pytest.mark.parametrize("factory", ["PCAR256,IVF64,PQ64x4fsr", "PCAR256,IVF64,PQ32np"])
def test_merged_shards_search_as_the_whole(small_index, tmp_path, factory):
    db = cat.open_catalog(small_index, readonly=True)
    rows = db.execute("SELECT id, shard, row, fh, fw FROM artworks WHERE state='done' "
                      "ORDER BY id").fetchall()
    db.close()
    with FeatureStore(small_index) as store:
        trained = train_index(factory, store, rows, 2048, 4096)
        whole = add_artworks(faiss.clone_index(trained), store, rows, 144)
        shards = []
        for i, part in enumerate((rows[:15], rows[15:])):
            shards.append(tmp_path / f"shard-{i}.faiss")
            faiss.write_index(add_artworks(faiss.clone_index(trained), store, part, 144),
                              str(shards[-1]))
        queries = np.concatenate([patch_vectors(store.read(r["shard"], r["row"], r["fh"],
                                                           r["fw"])) for r in rows[10:20:3]])
    merged = faiss.clone_index(trained)
    data = tmp_path / "lists.ivfdata"
    merge_shards(merged, shards, data)
    assert data.is_file() != is_fast_scan(merged), "on disk unless fast-scan"
    assert merged.ntotal == whole.ntotal == sum(faiss.read_index(str(s)).ntotal for s in shards)
    for index in (whole, merged):
        faiss.extract_index_ivf(index).nprobe = 8
    want, got = whole.search(queries, 20), merged.search(queries, 20)
    assert np.array_equal(got[1], want[1])
    assert np.allclose(got[0], want[0])
