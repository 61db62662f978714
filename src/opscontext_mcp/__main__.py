from opscontext_mcp.cli import main

raise SystemExit(main())
