"""群众举报 (12350): reports from the public, the proof-of-work challenge, and the desk's handling."""
