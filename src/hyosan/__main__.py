from hyosan.cli import main

main()
