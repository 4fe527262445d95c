"""The IM ids of our own robots' shadows: one scheme, for creating them and for recognising them.

Plain Python (no Django): the App Server (``robots.appserver``) checks ids against it too.
"""

from __future__ import annotations

import hashlib
import re

_SAFE_ID = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_SHADOW_ID = re.compile(r"[A-Za-z0-9_\-]{1,40}_csshadow|cs_shadow_[0-9a-f]{24}")


def shadow_robot_id(customer_im_id: str) -> str:
    """The shadow's IM id, derived from the customer's: readable when safe, hashed otherwise."""
    if _SAFE_ID.fullmatch(customer_im_id):
        return f"{customer_im_id}_csshadow"
    digest = hashlib.sha256(customer_im_id.encode("utf-8")).hexdigest()[:24]
    return f"cs_shadow_{digest}"


def may_be_shadow_robot_id(im_id: str) -> bool:
    """Whether ``im_id`` has the shape of a shadow's id. Only a shape: an IM user may have chosen such
    an id; the robot table says whether it is one of ours."""
    return _SHADOW_ID.fullmatch(im_id) is not None
