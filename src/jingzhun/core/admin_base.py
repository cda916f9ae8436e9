"""The base of every back-office page: reads scoped, writes gated by role capability.

Every ``ModelAdmin`` of the project derives from :class:`ScopedAdmin`. Rows come
through :func:`jingzhun.core.scoping.scope_queryset`, so a user sees exactly what
the API and the selectors show them; permissions come from the role's
capabilities, never from Django's per-model permissions, and superusers get no
bypass. An object of another jurisdiction is a 404, like a missing one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import ForeignKey, ManyToManyField, Model, Q, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.contrib.filters.admin import RelatedDropdownFilter

from jingzhun.core import crypto, permissions
from jingzhun.core.normalize import check_id_number
from jingzhun.core.permissions import user_can
from jingzhun.core.redact import holds_whole_number
from jingzhun.core.resident_id import birth_month
from jingzhun.core.scoping import scope_of, scope_queryset

# Columns that hold a sealed value or its lookup key: never shown, never searched as text.
SENSITIVE_SUFFIXES = ("_cipher", "_key", "_index")
# Roles that only ever read (accounts.roles.Role.INSPECTOR; core imports no app).
READ_ONLY_ROLES = frozenset({"inspector"})
_ID_NUMBER = re.compile(r"\d{17}[\dX]")


def is_sensitive_field(name: str) -> bool:
    """Return whether a field name is a cipher, key version or blind index column."""
    return name.endswith(SENSITIVE_SUFFIXES)


def id_number_term(term: str) -> str | None:
    """Return a search term as a normalised 18-character resident ID, or None if it is not one."""
    text = "".join(unicodedata.normalize("NFKC", term).split()).upper()
    if not _ID_NUMBER.fullmatch(text):
        return None
    try:
        return check_id_number(text)  # the normalisation the imports index with
    except ValueError:
        return text  # a bad checksum may still be on a roll, indexed as written


def user_can_write(user: Any, capability: str | None) -> bool:
    """Return whether the user may write with a capability (read-only roles never may)."""
    if getattr(user, "role", "") in READ_ONLY_ROLES:
        return False
    return user_can(user, capability)


def reveal_redirect(model_name: str, object_id: str, field: str) -> HttpResponse:
    """Send the user to the page that asks why they need a whole number, then shows it."""
    try:
        pk = int(object_id)
    except ValueError as exc:
        raise Http404 from exc
    return redirect("reveal", model=model_name, pk=pk, field=field)


def _without_sensitive(names: Any) -> list[Any]:
    return [n for n in names if not (isinstance(n, str) and is_sensitive_field(n))]


class ScopedRelatedDropdownFilter(RelatedDropdownFilter):
    """A related-object filter offering only objects that occur in the user's own rows."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        pks = model_admin.get_queryset(request).values(f"{self.field_path}__pk")
        ordering = self.field_admin_ordering(field, request, model_admin)
        return list(
            field.get_choices(
                include_blank=False, limit_choices_to={"pk__in": pks}, ordering=ordering
            )
        )


class ScopeMixin:
    """What admin pages and their inlines share: scoped rows, capability permissions."""

    view_capability: str = permissions.VIEW
    edit_capability: str | None = None
    # Distinct rows when a model's scope follows a to-many relation (students via enrolments).
    scope_distinct: bool = False

    def scoped(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        queryset = scope_queryset(queryset, request.user)
        return queryset.distinct() if self.scope_distinct else queryset

    def can_view(self, request: HttpRequest) -> bool:
        """Return whether the role may view, and the jurisdiction includes this kind of record."""
        scope = scope_of(request.user)
        if scope.is_empty or not user_can(request.user, self.view_capability):
            return False
        scope_q = getattr(self.model, "scope_q", None)  # type: ignore[attr-defined]
        return scope_q is not None and scope_q(scope) is not None

    def can_edit(self, request: HttpRequest) -> bool:
        return self.can_view(request) and user_can_write(request.user, self.edit_capability)

    @admin.display(description=_("birth month"), ordering="birth_date")
    def birth_month(self, obj: Any) -> str:
        """A birth date as every page shows it: year and month (core.resident_id.birth_month)."""
        return birth_month(obj.birth_date)


# A roll number: a letter and 10-30 digits (or an ID with its X), as 学籍号 are written.
ROLL_LIKE = re.compile(r"[A-Z]\d{9,29}[\dX]")


def refuse_number_in_address(request: HttpRequest) -> None:
    """Tell the user a whole ID or bank number is not searched from a list, and where to go."""
    text = gettext(
        "An ID or bank number is not searched from a list: it would be kept in the address, "
        "the browser history and the server's logs. Use the child search, which sends it "
        "privately."
    )
    try:
        url = reverse("dashboard:children")
    except NoReverseMatch:  # the pages are not mounted
        messages.warning(request, text)
        return
    messages.warning(
        request, format_html('{} <a href="{}">{}</a>', text, url, gettext("Find a child"))
    )


class ScopedAdmin(ScopeMixin, ModelAdmin):
    """A model admin that shows only the user's jurisdiction and writes only through services.

    Subclasses that edit set ``edit_capability`` and override :meth:`save_model`
    to call the app's service; ``allow_add`` and ``allow_delete`` stay off for
    data that arrives by import (corrections come by re-import too).
    """

    allow_add: bool = False
    allow_delete: bool = False
    # Blind-index columns matched when the search term is a whole roll number (学籍号) that
    # holds no ID number. A whole ID or bank number is never searched here (it would travel
    # in the address): see changelist_view.
    roll_index_fields: tuple[str, ...] = ()
    # Plain columns that embed an ID number (a roll number is "G" + the ID): never filtered
    # through URL lookups, which would let anyone recover the number a digit at a time.
    private_fields: tuple[str, ...] = ()
    list_filter_submit = True
    show_add_link = False

    # -- reads ---------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scoped(super().get_queryset(request), request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Refuse a search for a whole ID or bank number: it came in the address.

        The list is shown again at an address without it (so the browser keeps no page
        holding it), with a message pointing to the child search, which takes the number
        by POST.
        """
        term = request.GET.get(SEARCH_VAR, "")
        if term and holds_whole_number(term):
            refuse_number_in_address(request)
            query = request.GET.copy()
            del query[SEARCH_VAR]
            rest = query.urlencode()
            return HttpResponseRedirect(f"{request.path}?{rest}" if rest else request.path)
        return super().changelist_view(request, extra_context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Search as usual; a whole roll number is looked up by its blind index.

        A term holding a whole ID or bank number finds nothing, from any search that
        reaches here (the list's box, autocomplete, the sidebar search): it came in an address.
        """
        if holds_whole_number(search_term):
            return queryset.none(), False
        term = search_term.strip().upper()
        if self.roll_index_fields and ROLL_LIKE.fullmatch(term):
            roll_digest = crypto.blind_index(term, purpose="roll")
            roll_match = Q()
            for name in self.roll_index_fields:
                roll_match |= Q(**{name: roll_digest})
            return queryset.filter(roll_match), False
        return super().get_search_results(request, queryset, search_term)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Refuse URL lookups on sealed columns and on columns that embed an ID number."""
        names = lookup.split("__")
        if any(is_sensitive_field(n) or n in self.private_fields for n in names):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """Return the filters, offering related objects only from the user's own rows.

        Django's plain related filter lists every row of the related table, which
        would show other townships' villages and schools by name.
        """
        filters: list[Any] = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and self._is_relation_path(item):
                filters.append((item, ScopedRelatedDropdownFilter))
            else:
                filters.append(item)
        return filters

    def _is_relation_path(self, path: str) -> bool:
        try:
            fields = get_fields_from_path(self.model, path)
        except (FieldDoesNotExist, ImproperlyConfigured):
            return False
        return bool(fields) and fields[-1].is_relation

    # -- what is shown -------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return _without_sensitive(super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return _without_sensitive(super().get_readonly_fields(request, obj))

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            options = {**options, "fields": _without_sensitive(options.get("fields", ()))}
            fieldsets.append((name, options))
        return fieldsets

    def get_list_display(self, request: HttpRequest) -> Any:
        return _without_sensitive(super().get_list_display(request))

    # -- permissions: role capabilities only -----------------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.can_view(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.allow_add and self.can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.allow_delete and self.can_edit(request)

    # -- related choices in forms --------------------------------------------------------

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if "queryset" not in kwargs:
            related = db_field.remote_field.model._default_manager.all()
            kwargs["queryset"] = scope_queryset(related, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        if "queryset" not in kwargs:
            related = db_field.remote_field.model._default_manager.all()
            kwargs["queryset"] = scope_queryset(related, request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # -- writes go through services --------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise ImproperlyConfigured(
            f"{type(self).__name__} must save through a service function (override save_model)."
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} does not delete.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} does not delete.")

    # -- another jurisdiction's object is a 404, like a missing one ---------------------------

    def object_or_404(self, request: HttpRequest, object_id: str) -> Model:
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.to_field_allowed(request, to_field):
            to_field = None
        obj = self.get_object(request, unquote(object_id), to_field)
        if obj is None:
            raise Http404
        return obj

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        self.object_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.object_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)


class ReadOnlyInlineMixin(ScopeMixin):
    """An inline that lists the parent's scoped rows and never writes."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scoped(super().get_queryset(request), request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.can_view(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return _without_sensitive(super().get_fields(request, obj))  # type: ignore[misc]


class ReadOnlyTabularInline(ReadOnlyInlineMixin, TabularInline):
    """A read-only, scoped tabular inline."""


class ReadOnlyStackedInline(ReadOnlyInlineMixin, StackedInline):
    """A read-only, scoped stacked inline."""
