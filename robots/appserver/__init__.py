"""The App Server: holds the IM server's admin secret so that the CS server need not.

Small, Django-free, its own process (``python -m robots.appserver``). The CS server asks it, over
HMAC-authenticated HTTP, for exactly the admin operations customer service needs (create or
update the CS Robot and customer shadows, read a user's profile, befriend a shadow and a
servicer) and nothing else.
"""
