"""Make the reference print pages in docs/: one atlas page and one grid notice board.

The sample district is built (seed 0) and coded as the demo does; the pages are written as PDF
(to print as is) and PNG (to look at), in Chinese:

* ``docs/atlas_page.pdf`` / ``.png`` — the A3 landscape atlas page of one community;
* ``docs/notice_board.pdf`` / ``.png`` — the A4 notice board (网格公示牌) of one of its grids,
  with two made-up grid workers.

Usage::

    python scripts/make_reference_pages.py [--community 430302001004] [--out docs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from gridgis.codes import assign_codes
from gridgis.i18n import use_language
from gridgis.partition import build_grids
from gridgis.render.atlas import atlas_pages
from gridgis.render.notice import notice_pages
from gridgis.samples import load_sample
from gridgis.writing import save_figure

MAKER = "雨湖区网格化服务管理中心"
DATE = "2025年3月1日"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--community", default="430302001004")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    import matplotlib.pyplot as plt

    layers = load_sample()
    built = build_grids(layers["communities"], layers["roads"], layers["buildings"],
                        special_sites=layers["special_sites"], rivers=layers["rivers"], seed=0)
    grids = assign_codes(built.grids, communities=layers["communities"])
    with use_language("zh"):
        for page in atlas_pages(grids, layers, by="community", paper="A3", maker=MAKER, when=DATE):
            if page.code == args.community:
                for suffix, dpi in (("pdf", 300), ("png", 110)):
                    save_figure(page.fig, args.out / f"atlas_page.{suffix}", dpi=dpi)
                print(f"atlas page {page.name}: scale 1:{page.scale}, "
                      f"{sum(t is not None for t in page.labels.texts)} labels")
            plt.close(page.fig)
        code = sorted(grids.loc[grids["community_code"] == args.community, "grid_code"])[0]
        workers = pd.DataFrame({"姓名": ["王芳", "李强"], "职务": ["专职网格员", "网格长"],
                                "联系电话": ["138 0732 0001", "139 0732 1234"],
                                "网格编码": [code, code]})
        page = next(notice_pages(grids, layers, workers=workers, codes=[code], maker=MAKER,
                                 when=DATE))
        for suffix, dpi in (("pdf", 300), ("png", 110)):
            save_figure(page.fig, args.out / f"notice_board.{suffix}", dpi=dpi)
        plt.close(page.fig)
        print(f"notice board {page.name}")


if __name__ == "__main__":
    main()
