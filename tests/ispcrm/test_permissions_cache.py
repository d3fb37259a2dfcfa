"""Role permissions come from the cache, and a change of roles takes effect at once."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ispcrm import roles
from ispcrm.models import User

PERM = "billing.add_payment"  # the cashier's: managers have it, crew leaders do not


def fresh(user) -> User:
    """The user as the next request loads him (no per-object permission cache)."""
    return User.objects.get(pk=user.pk)


def test_a_second_request_asks_the_database_nothing(make_user):
    manager = make_user(roles.MANAGER)
    assert fresh(manager).has_perm(PERM)
    user = fresh(manager)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm(PERM)
    assert len(queries) == 0


def test_leaving_a_role_takes_the_permission_away_at_once(make_user):
    manager = make_user(roles.MANAGER)
    assert fresh(manager).has_perm(PERM)
    manager.groups.remove(Group.objects.get(name=roles.MANAGER))
    assert not fresh(manager).has_perm(PERM)
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    assert fresh(manager).has_perm(PERM)


def test_a_role_losing_a_permission_loses_it_for_every_member(make_user):
    manager = make_user(roles.MANAGER)
    assert fresh(manager).has_perm(PERM)
    permission = Permission.objects.get(codename="add_payment")
    Group.objects.get(name=roles.MANAGER).permissions.remove(permission)
    assert not fresh(manager).has_perm(PERM)
    permission.group_set.add(Group.objects.get(name=roles.MANAGER))
    assert fresh(manager).has_perm(PERM)


def test_a_personal_grant_and_a_deactivation_count_at_once(make_user):
    crew_leader = make_user(roles.CREW_LEADER)
    assert not fresh(crew_leader).has_perm(PERM)
    crew_leader.user_permissions.add(Permission.objects.get(codename="add_payment"))
    assert fresh(crew_leader).has_perm(PERM)
    crew_leader.is_active = False
    crew_leader.save()
    assert not fresh(crew_leader).has_perm(PERM)


def test_a_deleted_role_takes_its_permissions_along(make_user):
    group = Group.objects.create(name="cashiers")
    group.permissions.add(Permission.objects.get(codename="add_payment"))
    crew_leader = make_user(roles.CREW_LEADER)
    crew_leader.groups.add(group)
    assert fresh(crew_leader).has_perm(PERM)
    group.delete()
    assert not fresh(crew_leader).has_perm(PERM)
