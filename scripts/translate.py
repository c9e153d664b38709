"""Merge translations into the Chinese catalog: `python scripts/translate.py FILE.tsv`.

FILE.tsv holds `msgid<TAB>msgstr` lines (a plural msgid is written as its singular form).
Run `make extract` first so every msgid is in the catalog; unknown msgids are reported.
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "hashinsight_core/locale/zh/LC_MESSAGES/hashinsight.po"


def main(paths: list[str]) -> int:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    unknown = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip() or "\t" not in line:
                continue
            msgid, msgstr = line.split("\t", 1)
            message = catalog.get(msgid)
            if message is None:
                unknown.append(msgid)
                continue
            message.string = (msgstr,) if message.pluralizable else msgstr
            message.flags.discard("fuzzy")
    with PO.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True)
    for msgid in unknown:
        print(f"not in the catalog (run make extract?): {msgid}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
