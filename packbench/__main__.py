from packbench.start import main

raise SystemExit(main())
