"""A synthetic demo county: 石泉县 and its 11 real towns; villages, people, ID numbers, phones are made up.

Pure Python and deterministic: the same seed and parameters give the same county on every run. Ages are
counted from a fixed reference year, so the output does not drift with today's date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from app.households.idnumber import check_character

REFERENCE_YEAR = 2026
COUNTY_CODE = "610922"
COUNTY_NAME = "石泉县"
TOWNS: tuple[tuple[str, str, str], ...] = (  # code, name, pinyin slug for demo usernames
    ("610922100", "城关镇", "chengguan"),
    ("610922101", "饶峰镇", "raofeng"),
    ("610922102", "两河镇", "lianghe"),
    ("610922103", "迎丰镇", "yingfeng"),
    ("610922104", "池河镇", "chihe"),
    ("610922105", "后柳镇", "houliu"),
    ("610922106", "喜河镇", "xihe"),
    ("610922107", "熨斗镇", "yundou"),
    ("610922108", "云雾山镇", "yunwushan"),
    ("610922109", "中池镇", "zhongchi"),
    ("610922110", "曾溪镇", "zengxi"),
)
# 7 towns × 15 + 4 towns × 14 = 161 villages and communities.
DEFAULT_VILLAGES: tuple[int, ...] = (15, 15, 15, 15, 15, 15, 15, 14, 14, 14, 14)

VILLAGE_STEMS: tuple[str, ...] = (
    "长安", "新华", "和平", "双河", "红星", "青山", "龙王", "金星", "柳树", "花园", "桂花", "明星",
    "东风", "胜利", "万安", "三合", "永红", "光明", "新建", "太平", "五一", "团结", "联合", "先锋",
    "幸福", "兴隆", "石门", "白岩", "黄荆", "茶园", "银杏", "枫树", "松林", "竹园", "梨园", "杨柳",
    "清泉", "营盘", "堰坪", "凤凰",
)
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊"
)
MALE_GIVEN: tuple[str, ...] = tuple("德明建国志军平勇杰涛斌超辉刚强伟海林文华成功兴龙福全安永贵宏俊峰磊鹏飞")
FEMALE_GIVEN: tuple[str, ...] = tuple("秀英兰芳玉珍丽娟红霞琴燕萍敏静丹艳桂凤梅芬莲花春玲慧婷雪娜")
CADRE_UNITS: tuple[str, ...] = (
    "县农业农村局", "县卫健局", "县人社局", "县民政局", "县住建局", "县教体局", "县医保局", "县林业局",
    "县水利局", "县交通运输局", "县财政局", "县自然资源局", "县应急管理局", "县市场监管局",
)
LIFTED_YEARS: tuple[int, ...] = (2014, 2015, 2016, 2017, 2018, 2019, 2020)
LIFTED_WEIGHTS: tuple[int, ...] = (10, 12, 18, 18, 17, 15, 10)
PHONE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
    "158", "159", "177", "180", "181", "183", "187", "188", "189", "199",
)


# A city of several counties (load-demo --counties N): 石泉县 first, then the other counties of 安康市 as they
# are coded; beyond ten, made-up counties in made-up cities of the province (the benchmark's 100).
PROVINCE = ("61", "陕西省")
CITY = ("6109", "安康市")
CITY_COUNTIES: tuple[tuple[str, str, str], ...] = (  # code, name, slug for demo usernames
    (COUNTY_CODE, COUNTY_NAME, ""),
    ("610902", "汉滨区", "hanbin"), ("610921", "汉阴县", "hanyin"), ("610923", "宁陕县", "ningshan"),
    ("610924", "紫阳县", "ziyang"), ("610925", "岚皋县", "langao"), ("610926", "平利县", "pingli"),
    ("610927", "镇坪县", "zhenping"), ("610929", "白河县", "baihe"), ("610981", "旬阳市", "xunyang"),
)
MADE_UP_CITY_COUNTIES = 20
TOWN_STEMS: tuple[str, ...] = ("城关", "东河", "西岔", "南山", "北坝", "中坪", "大河", "小河", "高滩", "平梁", "石门")


@dataclass(frozen=True)
class DemoArea:
    code: str
    name: str
    level: str  # province | city | county | town | village
    parent_code: str | None


@dataclass(frozen=True)
class DemoMember:
    name: str
    id_number: str
    relation: str  # 户主 配偶 子女 父母 孙子女 兄弟姐妹 其他


@dataclass(frozen=True)
class DemoHousehold:
    household_no: str
    village_code: str
    kind: str  # lifted | non_poor
    lifted_year: int | None
    members: tuple[DemoMember, ...]  # the head first
    phone: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    area_code: str
    unit: str
    department: str | None = None  # for the department role: which one (app.departments.catalogue)


@dataclass(frozen=True)
class DemoCounty:
    areas: list[DemoArea]
    households: list[DemoHousehold]
    users: list[DemoUser]


class _Generator:
    def __init__(self, seed: int, county_code: str = COUNTY_CODE) -> None:
        self.rng = random.Random(seed)
        self.county_code = county_code  # where its people were born (the ID number's first six digits)
        self.id_numbers: set[str] = set()

    # People -----------------------------------------------------------------------------------------------

    def surname(self, unlike: str | None = None) -> str:
        while True:
            surname = self.rng.choice(SURNAMES)
            if surname != unlike:
                return surname

    def name(self, male: bool, surname: str | None = None, generation: str | None = None) -> str:
        chars = MALE_GIVEN if male else FEMALE_GIVEN
        if generation:
            given = generation + self.rng.choice(chars)
        elif self.rng.random() < 0.25:
            given = self.rng.choice(chars)
        else:
            given = self.rng.choice(chars) + self.rng.choice(chars)
        return (surname or self.surname()) + given

    def any_name(self) -> str:
        return self.name(self.rng.random() < 0.6)

    def id_number(self, age: int, male: bool) -> str:
        year = REFERENCE_YEAR - age
        days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        while True:
            born = date(year, 1, 1) + timedelta(days=self.rng.randrange(days))
            sequence = self.rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{self.county_code}{born:%Y%m%d}{sequence:03d}"
            number = first17 + check_character(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    # Households -------------------------------------------------------------------------------------------

    def household(self, village_code: str, sequence: int) -> DemoHousehold:
        rng = self.rng
        size = rng.choices((1, 2, 3, 4, 5, 6), weights=(6, 14, 26, 28, 16, 10))[0]
        head_age = rng.randint(30, 75)
        head_male = rng.random() < 0.85
        family = self.surname()
        people: list[tuple[str, str, int, bool]] = [  # relation, name, age, male
            ("户主", self.name(head_male, family), head_age, head_male)]

        def room() -> int:
            return size - len(people)

        if room() and rng.random() < 0.85:
            male = not head_male
            age = _clamp(head_age + rng.randint(-6, 6), 22, 90)
            people.append(("配偶", self.name(male, self.surname(family)), age, male))
        children: list[int] = []
        oldest_child = head_age - 20
        if room() and oldest_child >= 2:
            count = min(room(), rng.choices((1, 2, 3), weights=(45, 40, 15))[0])
            generation = rng.choice(MALE_GIVEN) if count > 1 and rng.random() < 0.4 else None
            for _ in range(count):
                age = rng.randint(max(2, head_age - 38), oldest_child)
                male = rng.random() < 0.52
                children.append(age)
                people.append(("子女", self.name(male, family, generation), age, male))
        if room() and head_age <= 60 and rng.random() < 0.45:
            for male in rng.sample((True, False), k=min(room(), rng.choice((1, 2)))):
                age = head_age + rng.randint(22, 34)
                if age <= 95:
                    name = self.name(male, family if male else self.surname(family))
                    people.append(("父母", name, age, male))
        if room() and children and max(children) >= 22:
            for _ in range(min(room(), rng.choice((1, 2)))):
                male = rng.random() < 0.52
                people.append(("孙子女", self.name(male, family), rng.randint(2, max(children) - 20), male))
        while room():
            male = rng.random() < 0.5
            if rng.random() < 0.75:
                people.append(("兄弟姐妹", self.name(male, family),
                               _clamp(head_age + rng.randint(-12, 12), 18, 90), male))
            else:
                people.append(("其他", self.name(male), rng.randint(18, 80), male))

        members = tuple(DemoMember(name, self.id_number(age, male), relation)
                        for relation, name, age, male in people)
        lifted = rng.random() < 0.6
        return DemoHousehold(
            household_no=f"{village_code}{sequence:04d}",
            village_code=village_code,
            kind="lifted" if lifted else "non_poor",
            lifted_year=rng.choices(LIFTED_YEARS, weights=LIFTED_WEIGHTS)[0] if lifted else None,
            members=members,
            phone=self.phone(),
        )

    # Villages ---------------------------------------------------------------------------------------------

    def village_names(self, count: int) -> list[str]:
        stems = self.rng.sample(VILLAGE_STEMS, k=min(count, len(VILLAGE_STEMS)))
        names = [f"{stem}村（演示）" for stem in stems]
        names += [f"第{n}村（演示）" for n in range(len(stems) + 1, count + 1)]
        return names


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def generate_demo_county(villages_per_town: int | None = None, households_per_village: int = 20,
                         seed: int = 610922, towns: int | None = None,
                         county: tuple[str, str, str] = CITY_COUNTIES[0], parent_code: str | None = None) -> DemoCounty:
    """The demo county. `villages_per_town=None` spreads 161 villages over the towns as in reality;
    `towns=N` keeps only the first N towns (the output is then a prefix of the full county's). Another `county`
    (code, name, username prefix) of a city gets made-up towns of the same sizes, its users prefixed."""
    county_code, county_name, prefix = county
    gen = _Generator(seed, county_code)
    if county_code == COUNTY_CODE:
        chosen = TOWNS if towns is None else TOWNS[:towns]
    else:
        chosen = tuple((f"{county_code}{100 + i}", f"{TOWN_STEMS[i % len(TOWN_STEMS)]}镇", f"{prefix}_t{i + 1:02d}")
                       for i in range(len(TOWNS) if towns is None else towns))
    user_prefix = f"{prefix}_" if prefix else ""
    areas = [DemoArea(county_code, county_name, "county", parent_code)]
    households: list[DemoHousehold] = []
    users = [
        DemoUser(f"{user_prefix}county_office", gen.any_name(), "county_office", county_code,
                 "县脱贫攻坚领导小组办公室"),
        DemoUser(f"{user_prefix}supervisor", gen.any_name(), "supervisor", county_code, "县脱贫攻坚指挥部"),
        DemoUser(f"{user_prefix}department_yibao", gen.any_name(), "department", county_code, "县医保局", "yibao"),
    ]
    if not prefix:
        users.insert(0, DemoUser("admin", "系统管理员", "admin", county_code, "系统管理"))
    for town_index, (town_code, town_name, slug) in enumerate(chosen):
        village_count = DEFAULT_VILLAGES[town_index] if villages_per_town is None else villages_per_town
        areas.append(DemoArea(town_code, town_name, "town", county_code))
        users.append(DemoUser(f"{slug}_certifier", gen.any_name(), "town_certifier", town_code,
                              f"{town_name}返贫风险对象认定工作组"))
        users.append(DemoUser(f"{slug}_leader", gen.any_name(), "town_leadership", town_code,
                              f"{town_name}脱贫攻坚领导小组"))
        units = (*CADRE_UNITS, f"{town_name}人民政府")
        for index, village_name in enumerate(gen.village_names(village_count), start=1):
            code = f"{town_code}{index:03d}"
            areas.append(DemoArea(code, village_name, "village", town_code))
            users.append(DemoUser(f"{slug}{index:02d}_team", gen.any_name(), "village_team", code,
                                  f"{town_name}{village_name}驻村工作队"))
            for number, unit in enumerate(gen.rng.sample(units, k=2), start=1):
                username = f"{slug}{index:02d}_cadre{number}"
                users.append(DemoUser(username, gen.any_name(), "cadre", code, unit))
            households.extend(gen.household(code, n) for n in range(1, households_per_village + 1))
    # The other departments that send monthly lists (部门筛查预警), named last so nothing above changes.
    for code, unit in DEPARTMENT_USERS:
        users.append(DemoUser(f"{user_prefix}department_{code}", gen.any_name(), "department", county_code, unit,
                              code))
    return DemoCounty(areas=areas, households=households, users=users)


def demo_counties(count: int) -> list[tuple[tuple[str, str, str], str]]:
    """The first `count` counties of the demo city (each with its parent's code): 安康市's ten, then made-up
    cities of twenty made-up counties each."""
    chosen = [(county, CITY[0]) for county in CITY_COUNTIES[:count]]
    for index in range(max(0, count - len(CITY_COUNTIES))):
        city = f"61{50 + index // MADE_UP_CITY_COUNTIES:02d}"
        number = index % MADE_UP_CITY_COUNTIES + 1
        chosen.append(((f"{city}{number:02d}", f"演示{index + 1:03d}县", f"c{city}{number:02d}"), city))
    return chosen


def generate_demo_city(counties: int, villages_per_town: int | None = None, households_per_village: int = 20,
                       seed: int = 610922, towns: int | None = None) -> DemoCounty:
    """A province's city of `counties` counties (石泉县, the demo county as generate_demo_county makes it, first),
    with the city's and the province's supervisors."""
    chosen = demo_counties(counties)
    cities = sorted({parent for _county, parent in chosen})
    areas = [DemoArea(*PROVINCE, "province", None)]
    areas += [DemoArea(code, CITY[1] if code == CITY[0] else f"演示{int(code[2:]) - 49}市", "city", PROVINCE[0])
              for code in cities]
    households: list[DemoHousehold] = []
    users = [DemoUser("province_supervisor", "省督查员", "supervisor", PROVINCE[0], "省乡村振兴局"),
             DemoUser("city_supervisor", "市督查员", "supervisor", CITY[0], "市乡村振兴局")]
    for index, (county, parent) in enumerate(chosen):
        one = generate_demo_county(villages_per_town, households_per_village, seed + index, towns, county, parent)
        areas += one.areas
        households += one.households
        users += one.users
    return DemoCounty(areas=areas, households=households, users=users)


DEPARTMENT_USERS = (("minzheng", "县民政局"), ("yingji", "县应急管理局"), ("renshe", "县人社局"), ("canlian", "县残联"),
                    ("jiaoyu", "县教体局"), ("zhujian", "县住建局"))
