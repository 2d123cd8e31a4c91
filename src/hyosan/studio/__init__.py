"""``hyosan studio``: a live local web app (optional extra ``hyosan[studio]``); see server.py."""
