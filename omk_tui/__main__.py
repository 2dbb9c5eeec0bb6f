from omk_tui.cli import main

raise SystemExit(main())
