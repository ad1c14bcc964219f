from janus_eval.cli import main

main()
