"""The console's notifications and delegations over HTTP: listed as the API lists them, marked read,
created and revoked through the forms with the services' refusals next to their fields.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from app.db import make_sessionmaker
from app.models import User
from app.models.base import utcnow
from app.services import notifications
from tests.console_helpers import csrf_of, page_csrf, sign_in

API = "/api/v1"
TODAY = date.today()


def tell(engine, username: str, kind: str, text: str, *, day: date = TODAY) -> None:
    with make_sessionmaker(engine)() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert notifications.notify(session=session, user_ids=[user_id], kind=kind, day=day, text=text,
                                    now=utcnow()) == 1
        session.commit()


def feed(client, as_user, username: str, **params) -> dict:
    response = client.get(f"{API}/me/notifications", params=params, headers=as_user(username))
    assert response.status_code == 200, response.text
    return response.json()


def test_my_notifications_newest_first_then_marked_read(app: FastAPI, client, as_user, engine):
    tell(engine, "specialist", "due_soon", "Văn bản 12/UBND sắp đến hạn xử lý")
    tell(engine, "specialist", "overdue", "Văn bản 13/UBND đã quá hạn xử lý")
    tell(engine, "unit_leader_vp", "overdue", "Thông báo của người khác")
    older, newer = sorted(n["id"] for n in feed(client, as_user, "specialist")["items"])

    browser = sign_in(app, "specialist")
    shown = browser.get("/console/notifications")
    assert shown.status_code == 200
    text = shown.text
    assert text.index(f'data-notification-id="{newer}"') < text.index(f'data-notification-id="{older}"')
    assert "Văn bản 13/UBND đã quá hạn xử lý" in text and "Văn bản 12/UBND sắp đến hạn xử lý" in text
    assert "Thông báo của người khác" not in text
    assert text.count('data-read="false"') == 2 and "Chưa đọc" in text

    answer = browser.post(f"/console/notifications/{older}/read", data={"csrf_token": csrf_of(text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/notifications"
    read = {n["id"]: n["read"] for n in feed(client, as_user, "specialist")["items"]}
    assert read == {older: True, newer: False}
    unread_only = browser.get("/console/notifications?unread=true").text
    assert f'data-notification-id="{newer}"' in unread_only and f'data-notification-id="{older}"' not in unread_only

    done = browser.post("/console/notifications/read-all", data={"csrf_token": csrf_of(text), "unread": "true"})
    assert done.status_code == 303 and done.headers["location"] == "/console/notifications?unread=true"
    assert feed(client, as_user, "specialist", unread="true")["total"] == 0
    assert feed(client, as_user, "unit_leader_vp", unread="true")["total"] == 1  # only mine
    assert 'id="no-notifications"' in browser.get("/console/notifications?unread=true").text


def test_someone_elses_notification_is_not_found_and_forms_need_csrf(app: FastAPI, client, as_user, engine):
    tell(engine, "unit_leader_vp", "overdue", "Văn bản 14/UBND đã quá hạn xử lý")
    (theirs,) = [n["id"] for n in feed(client, as_user, "unit_leader_vp")["items"]]
    browser = sign_in(app, "specialist")
    csrf = page_csrf(browser, "/console/notifications")
    answer = browser.post(f"/console/notifications/{theirs}/read", data={"csrf_token": csrf})
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    owner = sign_in(app, "unit_leader_vp")
    assert owner.post(f"/console/notifications/{theirs}/read", data={}).status_code == 403
    assert owner.post("/console/notifications/read-all", data={"csrf_token": csrf}).status_code == 403  # not theirs
    assert feed(client, as_user, "unit_leader_vp", unread="true")["total"] == 1


def delegation_form(browser, **fields) -> object:
    csrf = page_csrf(browser, "/console/delegations")
    return browser.post("/console/delegations", data={"csrf_token": csrf, **fields})


def api_delegations(client, as_user, username: str) -> list[dict]:
    response = client.get(f"{API}/delegations", headers=as_user(username))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_leader_delegates_through_the_form_then_revokes(app: FastAPI, client, as_user):
    leader = sign_in(app, "leader")
    form = leader.get("/console/delegations")
    assert form.status_code == 200 and 'id="delegation-form"' in form.text
    assert 'value="office_leader"' in form.text and 'id="none-given"' in form.text
    starts, ends = TODAY.isoformat(), (TODAY + timedelta(days=14)).isoformat()
    answer = delegation_form(leader, delegate_username="office_leader", starts_on=starts, ends_on=ends,
                             note="Ủy quyền khi đi công tác")
    assert answer.status_code == 303, answer.text
    (made,) = api_delegations(client, as_user, "leader")
    assert made["delegator"] == "leader" and made["delegate"] == "office_leader"
    assert made["starts_on"] == starts and made["ends_on"] == ends and made["roles"] == ["leader"]
    assert made["note"] == "Ủy quyền khi đi công tác" and made["revoked"] is False

    page = leader.get(answer.headers["location"]).text
    assert 'id="created"' in page
    given = page[page.index('id="given"'):]
    assert f'data-delegation-id="{made["id"]}" data-revoked="false"' in given
    assert TODAY.strftime("%d/%m/%Y") in given and "Ủy quyền khi đi công tác" in given
    assert f'action="/console/delegations/{made["id"]}/revoke"' in given

    delegate = sign_in(app, "office_leader")
    theirs = delegate.get("/console/delegations").text
    received = theirs[theirs.index('id="received"'):]
    assert f'data-delegation-id="{made["id"]}"' in received
    assert f'action="/console/delegations/{made["id"]}/revoke"' not in theirs  # not theirs to revoke
    refused = delegate.post(f"/console/delegations/{made['id']}/revoke", data={"csrf_token": csrf_of(theirs)})
    assert refused.status_code == 404  # as the API: not found
    assert leader.post(f"/console/delegations/{made['id']}/revoke", data={}).status_code == 403  # no CSRF
    assert api_delegations(client, as_user, "leader")[0]["revoked"] is False

    revoked = leader.post(f"/console/delegations/{made['id']}/revoke", data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 303
    assert api_delegations(client, as_user, "leader")[0]["revoked"] is True
    after = leader.get(revoked.headers["location"]).text
    assert f'data-delegation-id="{made["id"]}" data-revoked="true"' in after
    assert f'action="/console/delegations/{made["id"]}/revoke"' not in after


def test_the_delegation_forms_errors_are_next_to_their_fields(app: FastAPI, client, as_user):
    leader = sign_in(app, "office_leader")
    starts = TODAY.isoformat()
    backwards = delegation_form(leader, delegate_username="unit_leader_vp", starts_on=starts,
                                ends_on=(TODAY - timedelta(days=1)).isoformat(), note="ngược ngày")
    assert backwards.status_code == 422
    assert 'id="ends_on-error"' in backwards.text and 'aria-invalid="true"' in backwards.text
    assert "ngược ngày" in backwards.text  # what was typed is kept
    too_long = delegation_form(leader, delegate_username="unit_leader_vp", starts_on=starts,
                               ends_on=(TODAY + timedelta(days=400)).isoformat())
    assert too_long.status_code == 422 and 'id="ends_on-error"' in too_long.text
    nobody = delegation_form(leader, starts_on=starts, ends_on=starts)
    assert nobody.status_code == 422 and 'id="delegate_username-error"' in nobody.text  # the schema's: required
    to_self = delegation_form(leader, delegate_username="office_leader", starts_on=starts, ends_on=starts)
    assert to_self.status_code == 422 and 'id="delegate_username-error"' in to_self.text  # the service's
    not_held = delegation_form(leader, delegate_username="unit_leader_vp", starts_on=starts, ends_on=starts,
                               roles="leader")
    assert not_held.status_code == 422 and 'id="roles-error"' in not_held.text
    assert api_delegations(client, as_user, "office_leader") == []
    lent = delegation_form(leader, delegate_username="unit_leader_vp", starts_on=starts, ends_on=starts,
                           roles="office_leader")
    assert lent.status_code == 303
    assert [d["roles"] for d in api_delegations(client, as_user, "office_leader")] == [["office_leader"]]


def test_who_may_not_delegate_gets_no_form_and_the_apis_refusal(app: FastAPI, client, as_user):
    specialist = sign_in(app, "specialist")
    shown = specialist.get("/console/delegations")
    assert shown.status_code == 200 and 'id="delegation-form"' not in shown.text
    assert 'id="none-given"' in shown.text and 'id="none-received"' in shown.text
    answer = delegation_form(specialist, delegate_username="clerk", starts_on=TODAY.isoformat(),
                             ends_on=TODAY.isoformat())
    assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
    assert specialist.post("/console/delegations", data={"delegate_username": "clerk"}).status_code == 403
    assert api_delegations(client, as_user, "specialist") == []
