"""Staff permissions kept in the shared cache (Redis), so a page or an API call does not
spend two queries on "may this user do that" each time. Keyed by the user and the moment he
joined (a test database may hand a deleted user's id to a new one); forgotten when his
groups, his own permissions, a group's permissions or the user himself change, and after
PERMISSIONS_CACHE_SECONDS in any case (a change made straight in the database). With no
cache server, or with Redis down, it is simply ModelBackend."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_save, pre_delete


def _key(user_id: int, joined) -> str:
    return f"perms:{user_id}:{joined.timestamp() if joined else ''}"


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if (user_obj.is_active and not user_obj.is_anonymous and obj is None
                and not hasattr(user_obj, "_perm_cache")):
            key = _key(user_obj.pk, user_obj.date_joined)
            permissions = cache.get(key)
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                cache.set(key, permissions, settings.PERMISSIONS_CACHE_SECONDS)
            user_obj._perm_cache = permissions
        return super().get_all_permissions(user_obj, obj)


def forget(users) -> None:
    cache.delete_many([_key(pk, joined) for pk, joined in users])


def _user_changed(sender, instance, **kwargs):
    forget([(instance.pk, instance.date_joined)])


def _membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if not action.startswith("post_") and action != "pre_clear":
        return
    from ispcrm.models import User

    if isinstance(instance, User):
        forget([(instance.pk, instance.date_joined)])
    elif isinstance(instance, Group):
        forget(instance.user_set.values_list("pk", "date_joined"))
    elif model is User and pk_set:  # group.user_set.add(…), permission.user_set.add(…)
        forget(User.objects.filter(pk__in=pk_set).values_list("pk", "date_joined"))
    else:  # permission.group_set changed: every member of those groups
        forget(User.objects.filter(groups__pk__in=pk_set or ()).values_list(
            "pk", "date_joined"))


def _group_deleted(sender, instance, **kwargs):
    forget(instance.user_set.values_list("pk", "date_joined"))


def connect_signals() -> None:
    from ispcrm.api import authentication
    from ispcrm.models import User

    authentication.connect_signals()  # the API's cached tokens: forgotten on the same changes

    post_save.connect(_user_changed, sender=User, dispatch_uid="perms_user_saved")
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="perms_group_deleted")
    for through in (User.groups.through, User.user_permissions.through,
                    Group.permissions.through):
        m2m_changed.connect(_membership_changed, sender=through,
                            dispatch_uid=f"perms_{through.__name__}")
