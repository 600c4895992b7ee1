"""Many photos, many paintings: a folder painted with each photo's top matches, resumable,
with a contact page. It stands on the Python API, beside the studio."""
