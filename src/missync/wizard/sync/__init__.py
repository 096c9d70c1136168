"""The MIS Sync Wizard (upload → usernames → passwords → year groups → subject groups → summary → finish)
and the sync history. `state` keeps the answers between steps; each other module serves a few pages."""
