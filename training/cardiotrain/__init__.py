"""CardioSpike model factory: nested-CV training of LightGBM + CardioNet + logistic stacker, bundle export."""
import os as _os

# Cap BLAS/OpenMP pools before numpy/torch/lightgbm are imported (shared 2-core build box).
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    _os.environ.setdefault(_v, "2")
# Shared CPU: spinning OpenMP workers (the libgomp default) make 2-thread torch/LightGBM 5-20x slower whenever
# another process holds a core. Passive waiting costs ~nothing when the box is idle.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
