"""The Streamlit explorer (``cosim app``): pages that present what cosim's public API computes. Nothing here
models hardware or workloads; every number comes from :mod:`cosim.api`."""
