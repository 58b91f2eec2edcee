"""Fail unless the installed versions equal the pins of a constraints file.

Used on the Colab environment: installing course_lib must replace none of
Colab's own packages, so after the install every pin must still hold.
"""

import sys
from importlib.metadata import version
from pathlib import Path


def main(path: str) -> int:
    wrong = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, pinned = line.split("==")
        installed = version(name)
        status = "ok" if installed == pinned else "DIFFERENT"
        print(f"{name:12} pinned {pinned:8} installed {installed:8} {status}")
        if installed != pinned:
            wrong.append(name)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
