"""The staff shell: sign-in, sign-out and the home page that leads to each centre's pages."""
