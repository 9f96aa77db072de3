from packbench.cli import main

raise SystemExit(main())
