"""``trainquant demo`` (the simulated school, loaded and served) and ``trainquant simulate`` (its xlsx files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError

if TYPE_CHECKING:
    from trainquant.simulate.attendance.stream import CheckinStream
    from trainquant.simulate.institution.school import SimulatedSchool
    from trainquant.simulate.systems.process import SystemProcess
    from trainquant.simulate.training.spec import TrainingYear

SeedOption = Annotated[int, typer.Option(help="random seed of the simulated school; the same seed gives the same school")]


def _today() -> date:
    return SystemClock().now().astimezone(ZoneInfo(common.settings().default_timezone)).date()


def _address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def _logins_table(school, db) -> Table:
    from sqlalchemy import select

    from trainquant.auth.models import User
    from trainquant.org.models import Department, Employee

    table = Table("user", "password", "role", "who", title="demo logins", title_justify="left")
    for demo_user in school.demo_users:
        user = db.scalar(select(User).where(User.username == demo_user.username))
        who = ""
        if user is not None and user.employee_id is not None:
            emp = db.get(Employee, user.employee_id)
            who = f"{emp.name} ({emp.employee_no}, {emp.position})"
        if user is not None and user.department_id is not None:
            dep = db.get(Department, user.department_id)
            who += f"; sees {dep.name} and its groups"
        table.add_row(f"[bold]{demo_user.username}[/bold]", f"[bold]{demo_user.password}[/bold]", demo_user.role, who)
    return table


def _load(seed: int) -> list[SystemProcess]:
    from trainquant.db import unit_of_work
    from trainquant.simulate.institution.school import generate
    from trainquant.simulate.load import STEPS, is_loaded, load_school

    with common.progress(width=28) as progress:
        task = progress.add_task("generating the school", total=len(STEPS) + 1)
        school = generate(seed, today=_today())
        progress.update(task, advance=1, description="checking the database")
        with unit_of_work(common.sessions()) as db:
            if is_loaded(db, school):
                progress.update(task, completed=len(STEPS) + 1, description="already loaded")
                loaded = None
            else:
                def step(name: str) -> None:
                    progress.update(task, advance=1, description=f"loaded {name}")

                loaded = load_school(db, school, now=SystemClock().now(), default_tz=common.settings().default_timezone, progress=step)
    if loaded is None:
        console.print("The simulated school is already in the database; nothing was changed.")
    else:
        console.print(
            f"Loaded the simulated school (seed {seed}): {loaded.employees.created} employees, "
            f"{loaded.departments} departments, {loaded.sites} campuses with {loaded.venues} venues, "
            f"{loaded.timetable.created} timetable entries, {loaded.growth_notes} growth notes, {loaded.users} users."
        )
    year = _load_training(school)
    stream = _load_attendance(school, year)
    _load_platform_days(school, year)
    _load_online(school)
    systems = _load_business(school, year, stream)
    _evaluate(school.today)
    with unit_of_work(common.sessions()) as db:
        console.print(_logins_table(school, db))
    return systems


def _load_business(school: SimulatedSchool, year: TrainingYear, stream: CheckinStream) -> list[SystemProcess]:
    """The teaching platform, the CRM and the OA system with a year of data, started and connected both
    ways; their records pulled now (a later start pulls only what is new)."""
    from trainquant.simulate.business import load as load_business
    from trainquant.simulate.business.generate import generate_business

    s = common.settings()
    business = generate_business(school, year, stream)
    clock = SystemClock()
    systems = load_business.start(business, common.sessions(), s, now=clock.now(), workdir=s.instance_folder() / "systems",
                                  base_port=s.demo_systems_port)
    try:
        with common.progress(width=28) as progress:
            tasks = {d.connector: progress.add_task(f"pulling {d.connector}", total=None) for d in load_business.SYSTEMS}

            def page(name: str, run) -> None:
                progress.update(tasks[name], completed=run.pages, description=f"{name}: {run.items:,} items")

            runs = load_business.pull_all(common.sessions(), s, clock=clock.now, on_page=page)
    except BaseException:
        for p in systems:
            p.stop()
        raise
    for name, r in runs.items():
        console.print(f"Pulled {name} ({r.status}): {r.items:,} items in {r.pages} pages -> {r.accepted:,} records stored, "
                      f"{r.duplicate:,} already there, {r.unmapped:,} for ids to map, {r.rejected:,} rejected; {r.retries} requests retried.")
    console.print("The three systems run beside TrainQuant (" + ", ".join(p.url for p in systems) + "); training data goes to them "
                  "through signed deliveries every minute.")
    return systems


def _load_training(school: SimulatedSchool) -> TrainingYear:
    """The school's training year (programs, sessions, enrolments, assessments, costs); loading again adds nothing."""
    from decimal import Decimal

    from trainquant.db import unit_of_work
    from trainquant.simulate.training.generate import generate_training
    from trainquant.simulate.training.load import load_training

    year = generate_training(school)
    with unit_of_work(common.sessions()) as db:
        loaded = load_training(db, school, year, now=SystemClock().now())
    if loaded.created == 0:
        console.print("The simulated training year is already in the database; nothing was changed.")
        return year
    statuses: dict[str, int] = {}
    for e in year.enrolments:
        statuses[e.status] = statuses.get(e.status, 0) + 1
    total = sum((c.amount for c in year.costs), Decimal("0.00"))
    console.print(
        f"Loaded the training year: {loaded.programs} programs, {loaded.sessions} sessions, {loaded.enrolments} enrolments "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}), {loaded.assessments} assessments, "
        f"{loaded.costs} cost items ({total} CNY)."
    )
    return year


def _load_attendance(school, year) -> CheckinStream:
    """The year's check-ins through the ingestion path, then figures, proxy cases and alerts; loading again adds nothing."""
    from trainquant.db import unit_of_work
    from trainquant.simulate.attendance.generate import generate_checkins
    from trainquant.simulate.attendance.load import load_attendance

    stream = generate_checkins(school, year)
    s = common.settings()
    with unit_of_work(common.sessions()) as db:
        loaded = load_attendance(db, year, stream, now=SystemClock().now(), default_tz=s.default_timezone, secret_key=s.secret_key)
    if loaded.verdicts["accepted"] == 0:
        console.print("The simulated check-ins are already in the database; nothing was changed.")
        return stream
    v = loaded.verdicts
    kinds = ", ".join(f"{k} {p:.1%}" for k, p in sorted(loaded.participation.items()))
    console.print(
        f"Loaded the check-ins: {loaded.sent} events ({v['accepted']} accepted, {v['duplicate']} duplicate, {v['rejected']} rejected) "
        f"({loaded.devices} terminals registered); {loaded.records} attendance records over {loaded.sessions} sessions "
        f"(participation {kinds}); {loaded.open_cases} open proxy cases; "
        f"{', '.join(f'{n} {k}' for k, n in sorted(loaded.alerts.items())) or 'no'} open alerts."
    )
    return stream


def _load_online(school: SimulatedSchool) -> None:
    """The online year (part 5): two online programs and a year of viewers' statements through the LRS."""
    from trainquant.db import unit_of_work
    from trainquant.learning.completion import record_completions
    from trainquant.simulate.learning.generate import generate_online_year
    from trainquant.simulate.learning.load import load_online_year

    s = common.settings()
    year = generate_online_year(school, home=s.home_page())
    with unit_of_work(common.sessions()) as db:
        loaded = load_online_year(db, year, instance=s.instance_folder(), home=s.home_page(), now=SystemClock().now())
        completed = record_completions(db, now=SystemClock().now())
    if loaded.statements == 0:
        console.print("The simulated online year is already in the database; nothing was changed.")
        return
    kinds: dict[str, int] = {}
    for kind in year.behaviour.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    console.print(f"Loaded the online year: {loaded.programs} online programs, {loaded.videos} videos, {loaded.statements:,} xAPI statements "
                  f"from {len(year.behaviour)} viewers ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); {completed} completions recorded.")


def _load_platform_days(school: SimulatedSchool, year: TrainingYear) -> None:
    """Whole-day WeCom, DingTalk and Feishu exports through the platform import; loading again adds nothing."""
    from trainquant.db import unit_of_work
    from trainquant.simulate.attendance.load_platform_day import load_platform_days
    from trainquant.simulate.attendance.platform_day import platform_days

    busy = {s.starts_at.astimezone(ZoneInfo(common.settings().default_timezone)).date() for s in year.sessions}
    days = platform_days(school, busy)
    with unit_of_work(common.sessions()) as db:
        loaded = load_platform_days(db, days, now=SystemClock().now(), settings=common.settings())
    if loaded.verdicts["accepted"] == 0:
        console.print("The simulated platform days are already in the database; nothing was changed.")
        return
    r = loaded.reasons
    console.print(
        f"Imported whole-day platform exports ({', '.join(f'{p} {d.day}' for p, d in zip(('WeCom', 'DingTalk', 'Feishu'), days, strict=True))}): "
        f"{sum(loaded.records.values())} records, {loaded.verdicts['accepted']} accepted into {loaded.sessions} sessions; "
        f"{r['unrelated'] + r['redundant'] + r['double-tap']} kept as punches of no session, {r['walk-in']} walk-in punches for HR, "
        f"{r['platform-rejected'] + r['malformed']} refused on the platform's own verdict."
    )


def _evaluate(today: date) -> None:
    """One indicator evaluation at the demo's today (once), so the results and report pages show data."""
    from sqlalchemy import select

    from trainquant.db import unit_of_work
    from trainquant.indicators.evaluation import run_evaluation
    from trainquant.indicators.models import EvaluationRun

    with unit_of_work(common.sessions()) as db:
        if db.scalar(select(EvaluationRun.id).where(EvaluationRun.period_end == today, EvaluationRun.created_by == "demo")) is not None:
            return
        settings = common.settings()
        summary = run_evaluation(db, period_end=today, actor="demo", now=SystemClock().now(), tz=ZoneInfo(settings.default_timezone),
                                 school_terms=settings.school_terms)
    console.print(f"Evaluated the indicators at {today}: {summary.evaluations} results ({summary.met} met, {summary.not_met} not met, "
                  f"{summary.no_data} no data).")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        seed: SeedOption = 2026,
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the pages after loading")] = True,
    ) -> None:
        """Load the simulated 300-person school (once) and serve it, with ready-made logins."""
        common.migrate()
        try:
            systems = _load(seed)
        except DomainError as exc:
            raise common.fail(exc) from None
        s = common.settings()
        console.print(f"Database: {s.database_url}")
        console.print(f"Open [bold underline]{_address(s.host, s.port)}[/bold underline] and log in with one of the users above.")
        try:
            if serve:
                common.serve(s)
        finally:
            for process in systems:
                process.stop()

    @app.command()
    def simulate(
        seed: SeedOption = 2026,
        out: Annotated[Path, typer.Option(help="folder for the xlsx files")] = Path("var/simulated"),
    ) -> None:
        """Write the simulated school's employees and timetables as xlsx files, to try the import pages with."""
        from trainquant.simulate.institution.export import write_files
        from trainquant.simulate.institution.school import generate

        school = generate(seed, today=_today())
        for kind, (path, rows) in write_files(school, out).items():
            console.print(f"{kind}: {rows} rows -> {path}")
        console.print("Import the employees first: the timetable refers to their 工号. Departments and campuses must exist "
                      "(`trainquant demo --no-serve` creates them).")
