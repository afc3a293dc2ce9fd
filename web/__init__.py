"""The web dashboard: aiohttp + Jinja2 pages served from the database alone.

`web.app.build_app` makes the application; `hearth web` serves it on its own and `hearth run`
beside the bot when `web.enabled` is set. Every request's rights are checked by `web.auth`
whatever a page shows; pages live in `web.pages`, templates in `web/templates`, and the CSS
and JavaScript they use ship in `web/static` (no CDN, no build step).
"""
