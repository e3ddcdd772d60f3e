"""Settings pages: campuses and venues with their geofences, and the check-in devices, on pages rather
than the CLI or API; refusals say what and where, in the reader's language."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login, make_user
from trainquant.attendance.models import Device
from trainquant.org.models import Site, Venue


def test_a_campus_and_a_venue_with_its_geofence_are_added_and_moved_on_the_page(client, db):
    make_user(db, username="hr", role="hr")
    db.commit()
    token = login(client, "hr")
    page = client.get("/settings/campuses")
    assert page.status_code == 200 and "校区与场地" in page.text and "尚无校区" in page.text
    assert '<script src="/static/js/geolocate.js" defer></script>' in page.text
    post = lambda path, **data: client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)  # noqa: E731
    assert post("/settings/campuses", code="HD", name="海淀校区", timezone="Asia/Shanghai", address="中关村大街1号").status_code == 303
    taken = post("/settings/campuses", code="HD", name="又一个")
    assert taken.status_code == 409 and "已存在此编号的校区" in taken.text
    bad_zone = post("/settings/campuses", code="CY", name="朝阳校区", timezone="Mars/Olympus")
    assert bad_zone.status_code == 422 and 'data-field="timezone"' in bad_zone.text
    # the geofence: a centre and a radius
    far = post("/settings/campuses/HD/venues", name="301教室", latitude="139.9", longitude="116.3", radius_m="40")
    assert far.status_code == 422 and 'data-field="latitude"' in far.text and 'value="139.9"' in far.text  # what was typed stays
    assert post("/settings/campuses/HD/venues", name="301教室", latitude="39.983", longitude="116.316", radius_m="40").status_code == 303
    again = post("/settings/campuses/HD/venues", name="301教室", latitude="39.9", longitude="116.3")
    assert again.status_code == 409 and "该校区已有同名场地" in again.text
    venue = db.scalar(select(Venue).join(Site).where(Site.code == "HD"))
    assert (venue.name, venue.latitude, venue.longitude, venue.radius_m) == ("301教室", 39.983, 116.316, 40)
    moved = post(f"/settings/campuses/HD/venues/{venue.id}", name="301教室", latitude="39.9831", longitude="116.3162", radius_m="60")
    assert moved.status_code == 303
    db.expire_all()
    assert (venue.latitude, venue.longitude, venue.radius_m) == (39.9831, 116.3162, 60)
    english = client.get("/settings/campuses", params={"lang": "en"}).text
    assert "Campuses and venues" in english and "Use my current location" in english and "https pages only" in english
    assert post("/settings/campuses/NOPE/venues/999", name="x", latitude="1", longitude="1").status_code == 404


def test_devices_are_registered_switched_off_and_on_on_the_page(client, db):
    make_user(db, username="hr", role="hr")
    make_user(db, username="root", role="admin")
    site = Site(code="HD", name="海淀校区", timezone="Asia/Shanghai")
    site.venues = [Venue(name="301教室", latitude=39.98, longitude=116.31, radius_m=40)]
    db.add(site)
    db.commit()
    token = login(client, "hr")
    post = lambda path, **data: client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)  # noqa: E731
    assert "尚未登记设备" in client.get("/settings/devices").text
    assert post("/settings/devices", device_id="CKLJ2019", kind="zkteco", name="海淀前台", place="HD/301教室").status_code == 303
    dup = post("/settings/devices", device_id="CKLJ2019", kind="zkteco", place="HD")
    assert dup.status_code == 409 and "已登记过此序列号的设备" in dup.text
    bad = post("/settings/devices", device_id="a b", kind="zkteco", place="HD")
    assert bad.status_code == 422 and "序列号" in bad.text and 'value="a b"' in bad.text
    ghost = post("/settings/devices", device_id="CKLJ2020", kind="zkteco", place="HD/无此教室")
    assert ghost.status_code == 404 and "该校区没有此名称的场地" in ghost.text
    dev = db.scalar(select(Device).where(Device.device_id == "CKLJ2019"))
    assert (dev.active, dev.name, dev.venue_id) == (True, "海淀前台", site.venues[0].id)
    assert post(f"/settings/devices/{dev.id}", active="0").status_code == 303
    db.expire_all()
    assert dev.active is False
    row = client.get("/settings/devices").text.split('data-device="CKLJ2019"')[1].split("</tr>")[0]
    assert 'data-testid="switch-on"' in row
    # a device switched off is refused by the PUSH protocol until it is switched on again
    off = client.get("/iclock/cdata", params={"SN": "CKLJ2019", "options": "all"})
    assert off.status_code == 403 and "UNKNOWN DEVICE" in off.text
    assert post(f"/settings/devices/{dev.id}", active="1", name="前台考勤机").status_code == 303
    db.expire_all()
    assert (dev.active, dev.name) == (True, "前台考勤机")
    assert client.get("/iclock/cdata", params={"SN": "CKLJ2019", "options": "all"}).status_code == 200


def test_settings_pages_need_their_permissions(client, db):
    from tests.conftest import make_department, make_employee

    dep = make_department(db, code="T", kind="teaching")
    boss = make_employee(db, employee_no="B1", department=dep)
    make_user(db, username="boss", role="manager", employee=boss, department=dep)
    db.commit()
    login(client, "boss")
    assert client.get("/settings/campuses").status_code == 403
    assert client.get("/settings/devices").status_code == 403
