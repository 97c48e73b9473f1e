"""Alerts: rules from the config's `[[alerts]]`, evaluated by `serve` after every batch-job run
on the freshly rebuilt tables, delivered to a log line, a generic JSON webhook and a Slack
incoming webhook, deduplicated through `alert_events`.

- `rules`: the rules as configured, validated field by field.
- `conditions`: what each kind of rule sees in the warehouse now.
- `state`: what each target has already been told (read from, and recorded to, `alert_events`).
- `plan`: the messages that are due, from the conditions and the state.
- `messages`: a message as JSON, Slack text and log line.
- `deliver`: HTTP posting with bounded retries.
- `service`: the after-run hook that ties them together inside `serve`.
"""
