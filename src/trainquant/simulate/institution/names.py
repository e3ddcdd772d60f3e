"""Name material for the simulated school: Chinese surnames weighted by frequency, given-name characters
with their pinyin (so that e-mail addresses and WeCom user ids look like the real thing), and a few
English names for the foreign teachers."""

from __future__ import annotations

import random

# Surname -> (pinyin, share of the population in per mille, rounded; the 2020 census order).
SURNAMES: dict[str, tuple[str, float]] = {
    "王": ("wang", 71), "李": ("li", 70), "张": ("zhang", 67), "刘": ("liu", 54), "陈": ("chen", 46),
    "杨": ("yang", 31), "黄": ("huang", 25), "赵": ("zhao", 23), "吴": ("wu", 20), "周": ("zhou", 19),
    "徐": ("xu", 17), "孙": ("sun", 15), "马": ("ma", 14), "朱": ("zhu", 13), "胡": ("hu", 13),
    "郭": ("guo", 12), "何": ("he", 12), "林": ("lin", 12), "高": ("gao", 12), "罗": ("luo", 11),
    "郑": ("zheng", 11), "梁": ("liang", 10), "谢": ("xie", 8), "宋": ("song", 8), "唐": ("tang", 8),
    "许": ("xu", 7), "韩": ("han", 7), "邓": ("deng", 7), "冯": ("feng", 7), "曹": ("cao", 6),
    "彭": ("peng", 6), "曾": ("zeng", 6), "肖": ("xiao", 6), "田": ("tian", 6), "董": ("dong", 5),
    "潘": ("pan", 5), "袁": ("yuan", 5), "蔡": ("cai", 5), "蒋": ("jiang", 5), "余": ("yu", 5),
    "于": ("yu", 5), "杜": ("du", 5), "叶": ("ye", 5), "程": ("cheng", 4), "魏": ("wei", 4),
    "苏": ("su", 4), "吕": ("lv", 4), "丁": ("ding", 4), "任": ("ren", 4), "卢": ("lu", 4),
    "姚": ("yao", 4), "沈": ("shen", 4), "钟": ("zhong", 4), "姜": ("jiang", 4), "崔": ("cui", 3),
    "谭": ("tan", 3), "陆": ("lu", 3), "范": ("fan", 3), "汪": ("wang", 3), "廖": ("liao", 3),
    "石": ("shi", 3), "金": ("jin", 3), "韦": ("wei", 3), "贾": ("jia", 3), "夏": ("xia", 3),
    "付": ("fu", 3), "方": ("fang", 3), "邹": ("zou", 2), "熊": ("xiong", 2), "白": ("bai", 2),
    "孟": ("meng", 2), "秦": ("qin", 2), "邱": ("qiu", 2), "侯": ("hou", 2), "江": ("jiang", 2),
    "尹": ("yin", 2), "薛": ("xue", 2), "闫": ("yan", 2), "段": ("duan", 2), "雷": ("lei", 2),
    "龙": ("long", 2), "黎": ("li", 2), "史": ("shi", 2), "陶": ("tao", 2), "贺": ("he", 2),
    "毛": ("mao", 2), "郝": ("hao", 2), "顾": ("gu", 2), "龚": ("gong", 2), "邵": ("shao", 2),
    "钱": ("qian", 1), "戴": ("dai", 1), "严": ("yan", 1), "武": ("wu", 1), "欧阳": ("ouyang", 0.5),
    "上官": ("shangguan", 0.1),
}

# Characters common in given names of people born 1975-2003, split by the sex they usually suggest.
FEMALE_CHARS: dict[str, str] = {
    "芳": "fang", "娜": "na", "敏": "min", "静": "jing", "丽": "li", "艳": "yan", "娟": "juan", "霞": "xia",
    "婷": "ting", "雪": "xue", "琳": "lin", "晶": "jing", "颖": "ying", "倩": "qian", "佳": "jia", "欣": "xin",
    "怡": "yi", "悦": "yue", "萱": "xuan", "雨": "yu", "梦": "meng", "璐": "lu", "瑶": "yao", "蕾": "lei",
    "慧": "hui", "洁": "jie", "莉": "li", "萍": "ping", "燕": "yan", "玲": "ling", "君": "jun", "思": "si",
    "诗": "shi", "晓": "xiao", "彤": "tong", "妍": "yan", "宁": "ning", "雯": "wen", "楠": "nan", "月": "yue",
    "嘉": "jia", "婉": "wan", "清": "qing", "丹": "dan", "岚": "lan", "可": "ke", "心": "xin", "依": "yi",
}
MALE_CHARS: dict[str, str] = {
    "伟": "wei", "强": "qiang", "磊": "lei", "军": "jun", "洋": "yang", "勇": "yong", "杰": "jie", "涛": "tao",
    "明": "ming", "超": "chao", "鹏": "peng", "浩": "hao", "宇": "yu", "轩": "xuan", "博": "bo", "然": "ran",
    "晨": "chen", "凯": "kai", "斌": "bin", "辉": "hui", "刚": "gang", "健": "jian", "峰": "feng", "俊": "jun",
    "飞": "fei", "亮": "liang", "阳": "yang", "志": "zhi", "文": "wen", "天": "tian", "子": "zi", "一": "yi",
    "家": "jia", "昊": "hao", "泽": "ze", "睿": "rui", "航": "hang", "哲": "zhe", "毅": "yi", "川": "chuan",
    "东": "dong", "海": "hai", "立": "li", "成": "cheng",
}

ENGLISH_FIRST: tuple[str, ...] = (
    "James", "Emily", "Michael", "Sarah", "David", "Jessica", "Daniel", "Laura", "Thomas", "Olivia",
    "Matthew", "Hannah", "Andrew", "Chloe", "Ryan", "Sophie", "Benjamin", "Grace", "Lucas", "Amelia",
    "Christopher", "Megan", "Patrick", "Rachel",
)
ENGLISH_LAST: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Wilson", "Taylor", "Anderson", "Thompson", "White", "Harris", "Martin",
    "Clarke", "Walker", "Robinson", "Wright", "Hughes", "Edwards", "Murphy", "Kelly", "Campbell", "Stewart",
    "Reid", "Baker", "Evans", "Mitchell",
)

_SURNAME_KEYS = tuple(SURNAMES)
_SURNAME_WEIGHTS = tuple(w for _, w in SURNAMES.values())


def chinese_name(rng: random.Random, *, female_share: float = 0.5) -> tuple[str, str]:
    """A (name, pinyin) pair such as ("张思雨", "zhang.siyu")."""
    surname = rng.choices(_SURNAME_KEYS, weights=_SURNAME_WEIGHTS)[0]
    chars = FEMALE_CHARS if rng.random() < female_share else MALE_CHARS
    keys = tuple(chars)
    # About one in four given names is a single character; two-character names never repeat a character.
    picked = [rng.choice(keys)] if rng.random() < 0.25 else rng.sample(keys, 2)
    name = surname + "".join(picked)
    pinyin = SURNAMES[surname][0] + "." + "".join(chars[c] for c in picked)
    return name, pinyin


def english_name(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(ENGLISH_FIRST), rng.choice(ENGLISH_LAST)
    return f"{first} {last}", f"{first}.{last}".lower()


def is_plausible_chinese_name(name: str) -> bool:
    """A known surname followed by one or two given-name characters (what the generator promises)."""
    for surname in sorted(SURNAMES, key=len, reverse=True):
        if name.startswith(surname):
            given = name[len(surname):]
            return 1 <= len(given) <= 2 and all(c in FEMALE_CHARS or c in MALE_CHARS for c in given)
    return False
