"""Chinese place-name pools for the synthetic district (all characters are GBK-encodable)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "BRIDGE_NAMES",
    "CITY",
    "COMPOUND_SUFFIX",
    "DIRECTIONS",
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "LANE_SUFFIX",
    "NUMERALS",
    "ROAD_SUFFIX_ARTERIAL",
    "ROAD_SUFFIX_LOCAL",
    "SCHOOL_KINDS",
    "STEMS",
    "STREETS",
    "TOWNS",
    "VILLAGE_STEMS",
    "NamePool",
    "numeral",
]

CITY = "湘潭市"
DISTRICT_NAME = "雨湖区"
DISTRICT_CODE = "430302"

STREETS = (
    "城正街街道", "雨湖路街道", "云塘街道", "广场街道", "窑湾街道", "先锋街道", "万楼街道",
    "昭潭街道", "护潭街道", "九华街道", "梦泽山街道", "长城街道",
)
TOWNS = ("长城乡", "姜畲镇", "鹤岭镇", "楠竹山镇", "响水乡", "白石镇")

# two-character stems of community / road names (old streets, landmarks, good wishes)
STEMS = (
    "韶山", "建设", "和平", "湘江", "先锋", "雨湖", "大埠", "窑湾", "平政", "熙春", "杨梅", "金沙",
    "云塘", "白石", "宝塔", "人民", "风车", "砂子", "昭潭", "万楼", "书院", "车站", "河东", "长安",
    "文昌", "古城", "湖湘", "桂花", "芙蓉", "莲城", "红旗", "胜利", "解放", "光明", "东风", "新华",
    "建国", "友谊", "团结", "育才", "学府", "梨园", "荷塘", "桃园", "竹山", "松涛", "枫林", "樟树",
    "望衡", "观湘", "临江", "滨江", "泗洲", "唐兴", "十八", "三义", "联盟", "民主", "健康", "晓塘",
    "基建", "板塘", "易俗", "富民", "顺风", "丰收", "安居", "瑞祥", "永安", "康宁", "福星", "鹤岭",
)
VILLAGE_STEMS = (
    "长城", "响塘", "湖塘", "桃源", "金霞", "白鹤", "石潭", "杉山", "双马", "莲花", "樟树", "花石",
    "姜畲", "龙口", "马家", "新塘", "泉塘", "青山", "楠竹", "黄龙", "竹埠", "田心", "谭家", "凤形",
    "黄荆", "茶园", "古塘", "杨家", "曙光", "金盆", "三星", "荷叶", "柳塘", "松山", "梅林", "朱亭",
)
ROAD_SUFFIX_ARTERIAL = ("路", "大道", "路", "路")
ROAD_SUFFIX_LOCAL = ("街", "路", "路", "街")
LANE_SUFFIX = ("巷", "里", "巷")
DIRECTIONS = ("东", "西", "南", "北", "中")
NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
            "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十")
BRIDGE_NAMES = ("湘江一大桥", "湘江二大桥", "湘江三大桥", "湘江四大桥", "湘江五大桥")
SCHOOL_KINDS = ("小学", "中学", "实验小学", "第一中学", "外国语学校")
COMPOUND_SUFFIX = ("小区", "花园", "家园", "新村", "公寓", "苑")


def numeral(i: int) -> str:
    """Chinese numeral for 1..99 (``numeral(3) == "三"``, ``numeral(12) == "十二"``)."""
    if i <= len(NUMERALS):
        return NUMERALS[i - 1]
    tens, ones = divmod(i, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


class NamePool:
    """Draws unique names deterministically from a stem list, extending it when exhausted."""

    def __init__(self, stems: tuple[str, ...], rng: np.random.Generator) -> None:
        self._stems = [stems[i] for i in rng.permutation(len(stems))]
        self._used: set[str] = set()
        self._i = 0

    def take(self, suffix: str) -> str:
        """Next unused ``stem + suffix``; after the stems run out, a direction prefix is added."""
        while True:
            k, i = divmod(self._i, len(self._stems))
            self._i += 1
            stem = self._stems[i]
            name = stem + suffix if k == 0 else f"{stem}{DIRECTIONS[(k - 1) % 5]}{suffix}"
            if k > 5:
                name = f"{stem}{numeral(k)}{suffix}"
            if name not in self._used:
                self._used.add(name)
                return name
