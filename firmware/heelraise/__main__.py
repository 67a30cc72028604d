from heelraise.cli import main

raise SystemExit(main())
