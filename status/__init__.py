"""The visitor's status page, `/s/<public token>`: the QR code on every ticket leads here."""
