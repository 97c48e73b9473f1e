"""The sign-in page: one self-contained HTML form (its style inline), so nothing else the
server has needs to be open before sign-in."""

from __future__ import annotations

from markupsafe import escape

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · gatewatch</title>
<link rel="icon" href="data:,">
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: #f3f4f6; color: #111827; }}
header {{ background: #111827; color: white; padding: 14px 24px; font-weight: 600; }}
form {{ max-width: 320px; margin: 80px auto; background: white; padding: 28px;
        border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
h1 {{ font-size: 20px; margin: 0 0 18px; }}
label {{ display: block; font-size: 13px; margin: 12px 0 4px; color: #374151; }}
input {{ width: 100%; box-sizing: border-box; padding: 8px; font-size: 14px;
         border: 1px solid #d1d5db; border-radius: 4px; }}
button {{ margin-top: 20px; width: 100%; padding: 9px; font-size: 14px; border: 0;
          border-radius: 4px; background: #2563eb; color: white; cursor: pointer; }}
.error {{ color: #b91c1c; font-size: 14px; margin: 0 0 8px; }}
</style>
</head>
<body>
<header>gatewatch</header>
<form method="post" action="/login">
<h1>Sign in</h1>
{error}
<input type="hidden" name="next" value="{next}">
<label for="name">Name</label>
<input id="name" name="name" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</body>
</html>
"""


def login_page(next_path: str, error: str | None) -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _PAGE.format(error=message, next=escape(next_path))
