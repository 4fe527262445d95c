"""Writes on customers that come from the IM server."""

from __future__ import annotations

from sessions_app.models import Customer


def customer_profile_read(*, im_user_id: str, display_name: str, avatar_url: str) -> None:
    """The IM server's profile of a user was read (robots.handlers): keep it on the customer, if one.

    Cut to the columns' sizes: an IM display name may be longer than ours (128).
    """
    name_length = Customer._meta.get_field("display_name").max_length or 128
    avatar_length = Customer._meta.get_field("avatar_url").max_length or 500
    Customer.objects.filter(im_user_id=im_user_id).update(
        display_name=display_name[:name_length], avatar_url=avatar_url[:avatar_length]
    )
