"""The `nudgescribe` command line, run through its real entry point against the emulator."""
