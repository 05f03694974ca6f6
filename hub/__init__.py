"""The real-time chat and call-event hub: settings, storage, domain rules, realtime delivery, REST, CLI."""
