"""Strings of third-party packages that ship no Simplified Chinese translation.

django-unfold 0.91 (the back office's look) and django-axes (login lockout) have no zh_Hans
catalogue, and Django's own catalogues do not cover these texts. Listing them here puts them in
our catalogue (``make messages``), which takes precedence over the packages', so the back office
reads as Chinese throughout. Nothing imports this module; the strings are only marked.
When upgrading unfold, compare with its templates (``{% trans %}`` / ``{% translate %}``).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

VENDOR_STRINGS = (
    gettext_noop("Select record"),  # unfold/admin.py
    gettext_noop("Select action"),  # unfold/admin.py
    gettext_noop("Value"),  # unfold/contrib/filters/forms.py
    gettext_noop("From"),  # unfold/contrib/filters/forms.py
    gettext_noop("To"),  # unfold/contrib/filters/forms.py
    gettext_noop("Date from"),  # unfold/contrib/filters/forms.py
    gettext_noop("Date to"),  # unfold/contrib/filters/forms.py
    # unfold/contrib/filters/templates/unfold/filters/filters_numeric_slider.html
    gettext_noop("Not enough data."),
    gettext_noop("Submit"),  # unfold/templates/unfold/helpers/dialog.html
    gettext_noop("Select action to run"),  # unfold/forms.py
    # unfold/forms.py
    gettext_noop(
        "Raw passwords are not stored, so there is no way to see this user’s password, "
        'but you can change the password using <a href="{}" class="text-primary-600 '
        'dark:text-primary-500">this form</a>.'
    ),
    gettext_noop("Filters"),  # unfold/templates/admin/change_list.html
    gettext_noop("Select value"),  # unfold/mixins/base_model_admin.py
    gettext_noop("Run"),  # unfold/templates/admin/actions.html
    # unfold/templates/admin/auth/user/add_form.html
    gettext_noop("After you've created a user, you’ll be able to edit more user options."),
    gettext_noop("Expand row"),  # unfold/templates/admin/change_list_results.html
    gettext_noop("Welcome back to"),  # unfold/templates/admin/login.html
    gettext_noop("Type to search"),  # unfold/templates/admin/search_form.html
    # unfold/templates/registration/logged_out.html
    gettext_noop("You have been successfully logged out from the administration"),
    gettext_noop("No data"),  # unfold/templates/unfold/components/table.html
    gettext_noop("More actions"),  # unfold/templates/unfold/helpers/actions_row.html
    gettext_noop("All applications"),  # unfold/templates/unfold/helpers/app_list_all.html
    gettext_noop("True"),  # unfold/templates/unfold/helpers/boolean.html
    gettext_noop("False"),  # unfold/templates/unfold/helpers/boolean.html
    # unfold/templates/unfold/helpers/change_list_filter_actions.html
    gettext_noop("Apply Filters"),
    gettext_noop("Select all rows"),  # unfold/templates/unfold/helpers/change_list_headers.html
    gettext_noop("Recent searches"),  # unfold/templates/unfold/helpers/command_history.html
    gettext_noop("No recent searches"),  # unfold/templates/unfold/helpers/command_history.html
    # unfold/templates/unfold/helpers/command_results.html
    gettext_noop("No results matching your query"),
    gettext_noop("Loading more results..."),  # unfold/templates/unfold/helpers/command_results.html
    gettext_noop("Cancel"),  # unfold/templates/unfold/helpers/dialog.html
    gettext_noop("Record picture"),  # unfold/templates/unfold/helpers/display_header.html
    # unfold/templates/unfold/helpers/edit_inline/inline_delete_undo.html
    gettext_noop("This item will be deleted."),
    # unfold/templates/unfold/helpers/edit_inline/inline_delete_undo.html
    gettext_noop("Click to cancel"),
    gettext_noop("No results found"),  # unfold/templates/unfold/helpers/empty_results.html
    # unfold/templates/unfold/helpers/empty_results.html
    gettext_noop("This page yielded into no results. Create a new item or reset your filters."),
    gettext_noop("Reset filters"),  # unfold/templates/unfold/helpers/empty_results.html
    gettext_noop("Image preview"),  # unfold/templates/unfold/helpers/field_readonly_value_file.html
    # unfold/templates/unfold/helpers/field_readonly_value_file.html
    gettext_noop("Click to download"),
    gettext_noop("Go back"),  # unfold/templates/unfold/helpers/header_back_button.html
    gettext_noop("Previous"),  # unfold/templates/unfold/helpers/pagination_infinite.html
    gettext_noop("Next"),  # unfold/templates/unfold/helpers/pagination_infinite.html
    gettext_noop("Search apps and models..."),  # unfold/templates/unfold/helpers/search.html
    gettext_noop("General"),  # unfold/templates/unfold/helpers/tab_items.html
    gettext_noop("Light"),  # unfold/templates/unfold/helpers/theme_switch.html
    gettext_noop("Dark"),  # unfold/templates/unfold/helpers/theme_switch.html
    gettext_noop("System"),  # unfold/templates/unfold/helpers/theme_switch.html
    gettext_noop("Return to site"),  # unfold/templates/unfold/helpers/unauthenticated_header.html
    # unfold/templates/unfold/widgets/clearable_file_input.html
    gettext_noop("Choose file to upload"),
    # unfold/templates/unfold/widgets/password_toggle.html
    gettext_noop("Toggle password visibility"),
    gettext_noop("Date"),  # unfold/widgets.py
    # django-axes: the lockout message (AXES_COOLOFF_MESSAGE)
    gettext_noop("Account locked: too many login attempts. Please try again later."),
)
