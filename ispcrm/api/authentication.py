"""Token authentication with the token's user kept in the shared cache (Redis): an API call
then spends one cache round trip instead of a query on "whose token is this" (issue 3:
every query is ~1 ms of CPU on a loaded machine).

The cache holds the user's fields without the password hash, under a digest of the token
(not the token itself). Forgotten when the token is deleted or replaced and when the user is
saved (deactivated, made superuser…), and after PERMISSIONS_CACHE_SECONDS in any case — a
change made straight in the database, as for the role permissions (permissions_cache). With
no cache server, or Redis down, it is DRF's TokenAuthentication."""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

_SECRET_FIELDS = {"password"}


def _key(token_key: str) -> str:
    return "authtoken:" + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        stored = cache.get(_key(key))
        if stored is None:
            user, token = super().authenticate_credentials(key)  # refusals are not cached
            cache.set(_key(key), _fields(user), settings.PERMISSIONS_CACHE_SECONDS)
            return user, token
        user = _user(stored)
        token = Token(key=key, user=user)
        return user, token


def _fields(user) -> dict:
    return {field.attname: getattr(user, field.attname)
            for field in user._meta.concrete_fields if field.attname not in _SECRET_FIELDS}


def _user(stored: dict):
    """The user as a database row, the password deferred (read on access, which the API
    does not do)."""
    model = get_user_model()
    return model.from_db("default", list(stored), list(stored.values()))


def forget_tokens(keys) -> None:
    cache.delete_many([_key(key) for key in keys])


def _token_changed(sender, instance, **kwargs):
    forget_tokens([instance.key])


def _user_changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login: nothing the token's answer depends on
    forget_tokens(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))


def connect_signals() -> None:
    post_save.connect(_token_changed, sender=Token, dispatch_uid="authtoken_saved")
    post_delete.connect(_token_changed, sender=Token, dispatch_uid="authtoken_deleted")
    post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="authtoken_user")
