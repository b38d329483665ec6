"""Stored state: the SQL store and its plain records, the stored-object service the HTTP API
and the CLI share, the resolution of conversations and response chains, the upstream, the
import of saved responses, and ``LocalSources``, the ``Sources`` the faces hand to counts."""
