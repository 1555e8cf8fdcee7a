from companion.cli.app import main

main()
