"""The baseline: a minimal Django project, served like the CS server, that every throughput is compared with.

One view parses a callback-shaped JSON body and inserts one row into PostgreSQL: the least any
callback receiver on this stack must do. Same database settings and pool as the CS server
(``cs_project.env.env_database``), same server (``python -m cs_project.asgi_server``), no middleware.
"""
