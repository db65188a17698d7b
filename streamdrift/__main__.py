from streamdrift.cli import main

main()
