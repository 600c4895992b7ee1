"""Index an art collection: catalog, feature store, FAISS IVF-PQ index of relu5_3 patches."""
