"""What a person proves who they are with: passwords (change, set, throttle of wrong guesses),
two-factor sign-in (TOTP codes and recovery codes) and API clients (linked Basic-auth credentials)."""
