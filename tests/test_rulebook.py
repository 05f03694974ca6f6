"""The rulebook as tables: role x action -> allowed, and event x recipient -> receives (hub.rulebook),
checked without a server, the way the product guide states the rules."""

from __future__ import annotations

import pytest

from hub import rulebook
from hub.auth import Principal
from hub.errors import Forbidden
from hub.realtime.console import Console
from hub.rulebook import Action
from schemas.directory import Role
from schemas.events import Audience, wallboard_key

OWN, MAN, USR = Role.owner, Role.manager, Role.user

# -- who may do what ----------------------------------------------------------------------------------

ACTIONS: dict[Action, set[Role]] = {
    Action.company_settings: {OWN},
    Action.member_list: {OWN, MAN},
    Action.departments: {OWN, MAN},
    Action.oa_links_manage: {OWN},
    Action.oa_links_view: {OWN, MAN},
    Action.labels_manage: {OWN, MAN},
    Action.telephony: {OWN, MAN},
    Action.pbx_secret: {OWN},
    Action.wallboards: {OWN, MAN},
    Action.zns: {OWN, MAN},
    Action.all_consents: {OWN, MAN},
    Action.bulk_consents: {OWN, MAN, USR},
    Action.all_threads: {OWN},
    Action.queue_thread: {OWN},
    Action.assign_any_thread: {OWN},
    Action.all_calls: {OWN, MAN},
    Action.assign_missed_calls: {OWN, MAN},
    Action.audit: {OWN},
    Action.dashboard: {OWN, MAN},
    Action.followers: {OWN, MAN},
    Action.all_jobs: {OWN, MAN},
    Action.contacts_view: {OWN, MAN, USR},
    Action.contacts_delete: {OWN, MAN},
}


def test_the_table_covers_every_action() -> None:
    assert set(ACTIONS) == set(Action)


@pytest.mark.parametrize("action,role", [(a, r) for a in Action for r in Role])
def test_role_may_take_action(action: Action, role: Role) -> None:
    allowed = role in ACTIONS[action]
    assert rulebook.may(role, action) is allowed
    actor = Principal("m1", "c1", role)
    if allowed:
        rulebook.require(actor, action)
    else:
        with pytest.raises(Forbidden, match="only"):
            rulebook.require(actor, action)


@pytest.mark.parametrize(
    "role,assignee,sees,assigns",
    [
        (OWN, None, True, True),
        (OWN, "m1", True, True),
        (OWN, "other", True, True),
        (MAN, None, False, False),
        (MAN, "m1", True, True),
        (MAN, "other", False, False),
        (USR, None, False, False),
        (USR, "m1", True, False),
        (USR, "other", False, False),
    ],
)
def test_who_sees_and_moves_a_thread(role: Role, assignee: str | None, sees: bool, assigns: bool) -> None:
    actor, thread = Principal("m1", "c1", role), {"_id": "t1", "assignee_id": assignee}
    assert rulebook.may_see_thread(actor, thread) is sees
    assert rulebook.may_assign_thread(actor, thread) is assigns


# PATCH /api/members/{id}: (actor, target, new role or None, name/department sent) -> allowed
CHANGES = [
    # role changes: owners only, to manager or user, never of the owner, never their own
    (OWN, "a", USR, "b", MAN, False, True),
    (OWN, "a", MAN, "b", USR, False, True),
    (OWN, "a", USR, "b", OWN, False, False),
    (OWN, "a", MAN, "b", OWN, False, False),
    (OWN, "a", OWN, "a", MAN, False, False),
    (OWN, "a", OWN, "b", USR, False, False),
    (MAN, "a", USR, "b", MAN, False, False),
    (MAN, "a", MAN, "a", USR, False, False),
    (MAN, "a", MAN, "b", USR, False, False),
    (USR, "a", USR, "a", MAN, False, False),
    (USR, "a", USR, "b", MAN, False, False),
    # the same role again is no role change
    (MAN, "a", USR, "b", USR, True, True),
    (OWN, "a", OWN, "a", OWN, True, True),
    # name and department: owners of anyone, managers of users, users of nobody
    (OWN, "a", MAN, "b", None, True, True),
    (OWN, "a", USR, "b", None, True, True),
    (OWN, "a", OWN, "a", None, True, True),
    (OWN, "a", USR, "b", MAN, True, True),
    (MAN, "a", USR, "b", None, True, True),
    (MAN, "a", MAN, "b", None, True, False),
    (MAN, "a", MAN, "a", None, True, False),
    (MAN, "a", OWN, "b", None, True, False),
    (USR, "a", USR, "a", None, True, False),
    (USR, "a", USR, "b", None, True, False),
]


@pytest.mark.parametrize("actor,actor_id,target,target_id,new_role,other,allowed", CHANGES)
def test_who_changes_whose_role_name_and_department(
    actor: Role, actor_id: str, target: Role, target_id: str, new_role: Role | None, other: bool, allowed: bool
) -> None:
    assert rulebook.can_change_member(actor, actor_id, target, target_id, new_role, other) is allowed
    principal = Principal(actor_id, "c1", actor)
    if allowed:
        rulebook.require_change_member(principal, target, target_id, new_role, other)
    else:
        with pytest.raises(Forbidden):
            rulebook.require_change_member(principal, target, target_id, new_role, other)


@pytest.mark.parametrize(
    "actor,actor_id,target,target_id,allowed",
    [
        (OWN, "a", MAN, "b", True),
        (OWN, "a", USR, "b", True),
        (OWN, "a", OWN, "a", True),
        (MAN, "a", USR, "b", True),
        (MAN, "a", MAN, "a", True),
        (MAN, "a", MAN, "b", False),
        (MAN, "a", OWN, "b", False),
        (USR, "a", USR, "a", False),
        (USR, "a", USR, "b", False),
    ],
)
def test_who_sets_whose_extension(actor: Role, actor_id: str, target: Role, target_id: str, allowed: bool) -> None:
    assert rulebook.can_set_extension(actor, actor_id, target, target_id) is allowed


@pytest.mark.parametrize(
    "role,rang,assignee,handles",
    [
        (OWN, [], None, True),
        (MAN, [], None, True),
        (USR, ["m1"], None, True),
        (USR, [], "m1", True),
        (USR, ["m2"], "m3", False),
        (USR, [], None, False),
    ],
)
def test_who_handles_a_missed_call(role: Role, rang: list[str], assignee: str | None, handles: bool) -> None:
    actor = Principal("m1", "c1", role)
    assert rulebook.may_handle_missed_call(actor, {"members": rang, "assignee_id": assignee}) is handles


# -- who receives what --------------------------------------------------------------------------------


def _console(role: Role, member_id: str) -> Console:
    return Console(sid=member_id, member_id=member_id, company_id="c1", role=role, connected_at=0.0)


def _display() -> Console:
    return Console(
        sid="w", member_id=wallboard_key("tok"), company_id="c1", role=USR, connected_at=0.0, is_wallboard=True
    )


def _message(type_: str, audience: Audience) -> dict:
    return {
        "seq": 1,
        "type": type_,
        "company_id": "c1",
        "at": "",
        "data": {},
        "audience": audience.model_dump(mode="json", exclude_defaults=True),
    }


THREAD = {"_id": "t1", "assignee_id": "agent"}
WHO = ("owner", "manager", "agent", "previous", "other", "asker", "display")


def _recipients() -> dict[str, Console]:
    """Fresh consoles (a console keeps what earlier events did to it)."""
    roles = {"owner": OWN, "manager": MAN}
    return {who: _display() if who == "display" else _console(roles.get(who, USR), who) for who in WHO}


# event (as the domain publishes it) -> who of RECIPIENTS receives it
RECEIVES: list[tuple[str, Audience, set[str]]] = [
    ("thread.updated", rulebook.thread_audience(THREAD), {"owner", "agent"}),
    ("message.created", rulebook.thread_audience(THREAD), {"owner", "agent"}),
    ("thread.assigned", rulebook.thread_given(THREAD, "previous", "agent"), {"owner", "agent", "previous"}),
    ("thread.removed", rulebook.thread_taken("t1", "previous"), {"previous"}),
    ("label.created", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("member.updated", rulebook.supervisors(), {"owner", "manager"}),
    ("member.removed", rulebook.member_gone("other"), {"owner", "manager"}),
    ("company.updated", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("call.updated", rulebook.supervisors(["agent"]), {"owner", "manager", "agent"}),
    ("call.updated", rulebook.wall_displays(), {"display"}),
    ("missed_call.updated", rulebook.missed_call_audience(["agent"], None), {"owner", "manager", "agent"}),
    ("missed_call.updated", rulebook.missed_call_audience(["agent"], "other"), {"owner", "manager", "agent", "other"}),
    ("missed_call.updated", rulebook.missed_call_audience([], "other"), {"owner", "manager", "other"}),
    (
        "missed_call.updated",
        rulebook.missed_call_audience([], "other", "previous"),
        {"owner", "manager", "other", "previous"},
    ),
    ("extension.state", rulebook.supervisors(["agent"], wallboards=True), {"owner", "manager", "agent", "display"}),
    ("consent.updated", rulebook.supervisors(["asker"]), {"owner", "manager", "asker"}),
    ("oa_link.created", rulebook.oa_link_viewers(), {"owner", "manager"}),
    ("oa_link.updated", rulebook.oa_link_viewers(), {"owner", "manager"}),
    ("zns.updated", rulebook.supervisors(), {"owner", "manager"}),
    ("wallboard.revoked", rulebook.wallboard_revoked("tok"), {"owner", "manager"}),
    ("label.updated", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("department.created", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("department.updated", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("department.removed", rulebook.everyone(), {"owner", "manager", "agent", "previous", "other", "asker"}),
    ("member.updated", rulebook.supervisors(["agent"]), {"owner", "manager", "agent"}),
    ("session.revoked", rulebook.sessions_closed("agent"), {"agent"}),
    ("session.revoked", rulebook.sessions_closed("manager"), {"manager"}),
    ("follower.updated", rulebook.follower_watchers(), {"owner", "manager"}),
    ("journey.updated", rulebook.supervisors(), {"owner", "manager"}),
]


@pytest.mark.parametrize("type_,audience,receivers", RECEIVES, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(RECEIVES)])
@pytest.mark.parametrize("who", WHO)
def test_event_reaches_recipient(type_: str, audience: Audience, receivers: set[str], who: str) -> None:
    console = _recipients()[who]
    message = _message(type_, audience)
    assert (console.admits(message) and console.permits(message)) is (who in receivers)


def test_a_thread_taken_away_stops_reaching_its_old_assignee_until_given_back() -> None:
    old = _console(USR, "previous")
    later = _message("message.created", rulebook.thread_audience({"_id": "t1", "assignee_id": "agent"}, "previous"))
    assert old.permits(_message("thread.removed", rulebook.thread_taken("t1", "previous")))
    assert old.admits(later) and not old.permits(later), "named in the audience, but the thread was taken"
    given = _message(
        "thread.assigned", rulebook.thread_given({"_id": "t1", "assignee_id": "previous"}, "agent", "previous")
    )
    assert old.permits(given) and old.permits(later)


@pytest.mark.parametrize(
    "audience,closed",
    [
        (rulebook.member_gone("other"), {"other"}),
        (rulebook.wallboard_revoked("tok"), {"display"}),
        (rulebook.sessions_closed("agent"), {"agent"}),
        (rulebook.supervisors(), set()),
    ],
)
def test_what_closes_whose_connections(audience: Audience, closed: set[str]) -> None:
    message = _message("x", audience)
    assert {who for who, console in _recipients().items() if console.closes(message)} == closed


@pytest.mark.parametrize(
    "role,rooms",
    [
        (OWN, {"member:m", "supervisors:c1", "owners:c1"}),
        (MAN, {"member:m", "supervisors:c1"}),
        (USR, {"member:m"}),
    ],
)
def test_ephemeral_signals_reach_roles_through_their_rooms(role: Role, rooms: set[str]) -> None:
    from hub.realtime.ephemeral import rooms_of

    assert set(rooms_of(_console(role, "m"))) == rooms
