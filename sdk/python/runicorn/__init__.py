"""Runicorn: a local-first experiment tracker. A drop-in for Runicorn v0.6's
``import runicorn as rn`` whose logging runs in the C++ core (SDK.md §4).

    import runicorn as rn
    run = rn.init(path="cv/resnet", capture_console=True)
    run.log({"loss": 0.5, "acc": 0.9}, step=1)
    run.finish()
"""

from . import _native
from .enabled import NoOpRun, enabled, is_enabled, reset_enabled, set_enabled
from .sdk import Run, finish, get_active_run, init, log, log_text, summary
from .artifacts import Artifact, ArtifactVersion, artifact  # sdk-artifacts
from .sdk import use_artifact  # sdk-artifacts
from .snapshot import snapshot_workspace

__version__ = _native.version()
__compat_version__ = "0.6.0"

__all__ = [
    "init", "Run", "NoOpRun", "get_active_run", "enabled", "is_enabled", "set_enabled",
    "reset_enabled", "snapshot_workspace", "log", "log_text", "summary", "finish",
    "__version__", "__compat_version__",
    "Artifact", "ArtifactVersion", "artifact", "use_artifact",  # sdk-artifacts
]
