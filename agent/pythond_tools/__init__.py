"""Built-in tools shipped inside the agent (no upload): Exec, FileSystem, FileSync."""
