from isometry.cli import main

raise SystemExit(main())
