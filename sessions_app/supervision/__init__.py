"""What supervisors see and steer live: the live view and its feed, reports pages, settings form."""
