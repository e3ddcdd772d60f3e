import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.auth.permissions import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    DataScope,
    parse_scopes,
    scope_for_role,
    subtree,
)

TREE = {1: None, 2: 1, 3: 2, 4: 2, 5: 1, 6: 5, 7: None}


def test_subtree_includes_root_and_descendants_only():
    assert subtree(2, TREE) == {2, 3, 4}
    assert subtree(1, TREE) == {1, 2, 3, 4, 5, 6}
    assert subtree(7, TREE) == {7}


def test_subtree_survives_a_cycle():
    assert subtree(1, {1: 2, 2: 1}) == {1, 2}


@given(st.dictionaries(st.integers(1, 30), st.one_of(st.none(), st.integers(1, 30)), min_size=1))
def test_subtree_is_closed_under_children(parents):
    root = next(iter(parents))
    tree = subtree(root, parents)
    assert root in tree
    for child, parent in parents.items():
        if parent in tree:
            assert child in tree


def test_roles_scope():
    assert scope_for_role("hr", employee_id=None, department_id=None, parent_of=TREE).all
    m = scope_for_role("manager", employee_id=9, department_id=2, parent_of=TREE)
    assert m.department_ids == {2, 3, 4} and m.allows(department_id=3, employee_id=1) and not m.allows(department_id=5, employee_id=1)
    e = scope_for_role("employee", employee_id=9, department_id=None, parent_of=TREE)
    assert e.allows(department_id=5, employee_id=9) and not e.allows(department_id=5, employee_id=8)
    assert not DataScope().allows(department_id=1, employee_id=None)


def test_role_permissions_are_nested():
    assert set(ROLES) == set(ROLE_PERMISSIONS)
    assert ROLE_PERMISSIONS["admin"] == set(PERMISSIONS)
    assert ROLE_PERMISSIONS["employee"] <= ROLE_PERMISSIONS["manager"] <= ROLE_PERMISSIONS["hr"] <= ROLE_PERMISSIONS["admin"]


def test_parse_scopes():
    assert parse_scopes(["org:read", " org:write "]) == {"org:read", "org:write"}
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes(["org:read", "everything"])
    with pytest.raises(ValueError, match="at least one"):
        parse_scopes([" "])
