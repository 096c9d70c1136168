"""Logins that work: login cards (PDF), pupils' sign-in with passwords, picture PINs and QR codes,
staff activation emails, teachers' credential actions and lockouts after failed sign-ins."""
