"""An IPython kernel for grading that cannot write to the course folder or the repository.

Linux only (util-linux's `unshare` and `mount`, unprivileged user namespaces).
`tools/classroom.py autograde --sandbox` starts each submission's kernel through
this script, which

1. enters new user and mount namespaces (no root needed) and bind-mounts the
   course folder (gradebook, solutions, other submissions) and the repository
   (the notebooks with solutions) read-only, and the kernel's own folder (the
   submission's `autograded/<student>/<assignment>/`) writable again;
2. enters a second, nested pair of namespaces, so the kernel cannot unmount or
   remount those read-only mounts (Linux locks mounts inherited from a more
   privileged namespace);
3. runs `ipykernel` there, with `COURSE_OUTPUT_DIR` inside its own folder.

What it does not do: the kernel still runs as your user, so it can read your
files, write outside the protected folders (your home, /tmp), use the network
and signal your processes. A container or a dedicated grading account adds that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERNEL_NAME = "course-sandbox"
STAGE = "COURSE_SANDBOX_STAGE"  # which step a re-executed launcher is at


def unshare_works() -> bool:
    """Whether this machine lets an unprivileged process make user and mount namespaces."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    return done.returncode == 0


def kernel_options(course: Path) -> tuple[list[str], dict[str, str]]:
    """Write the sandbox's kernelspec into `course`; return nbgrader's options and env.

    Raises:
        RuntimeError: the machine cannot make the namespaces (not Linux, no `unshare`,
            or unprivileged user namespaces switched off).
    """
    if not unshare_works():
        raise RuntimeError(
            "Expected Linux with `unshare --user --map-root-user --mount` allowed for --sandbox. "
            f"Received: platform {sys.platform}, unshare "
            f"{'found' if shutil.which('unshare') else 'not found'} but not usable; "
            "grade without --sandbox, or in a container (docs/instructor-guide.md)"
        )
    course = Path(course).resolve()
    folder = course / ".sandbox" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    # The repository holds the notebooks with solutions, and by default the course folder.
    protected = [str(REPO)] if course.is_relative_to(REPO) else [str(course), str(REPO)]
    argv = [sys.executable, str(Path(__file__).resolve())]
    for path in protected:
        argv += ["--read-only", path]
    argv += ["--", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (grading sandbox)", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    jupyter_path = os.pathsep.join(
        p for p in (str(course / ".sandbox"), os.environ.get("JUPYTER_PATH", "")) if p
    )
    return [f"--Execute.kernel_name={KERNEL_NAME}"], {"JUPYTER_PATH": jupyter_path}


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"sandbox: `mount {' '.join(args)}` failed: {done.stderr.strip()}")


def _enter_namespaces(stage: str, argv: list[str]) -> None:
    os.environ[STAGE] = stage
    os.execvp("unshare", ["unshare", "--user", "--map-root-user", "--mount", *argv])


def main(argv: list[str]) -> None:
    split = argv.index("--")
    options, kernel_args = argv[:split], argv[split + 1 :]
    read_only = [options[i + 1] for i, word in enumerate(options) if word == "--read-only"]
    stage = os.environ.get(STAGE)
    if stage is None:
        _enter_namespaces("mounts", [sys.executable, str(Path(__file__).resolve()), *argv])
    elif stage == "mounts":
        here = os.getcwd()
        for path in read_only:
            _mount("--bind", path, path)
            _mount("-o", "remount,bind,ro", path)
        # The kernel's own folder, under a read-only one, is writable again.
        _mount("--bind", here, here)
        _mount("-o", "remount,bind,rw", here)
        os.environ["COURSE_OUTPUT_DIR"] = os.path.join(here, "run_outputs")
        _enter_namespaces("locked", [sys.executable, "-m", "ipykernel_launcher", *kernel_args])
    else:
        raise SystemExit(f"sandbox: unexpected {STAGE}={stage!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
