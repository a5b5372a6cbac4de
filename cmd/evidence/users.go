package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

func newUsersCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the accounts that sign in to the web and call the API",
		Long: `Accounts sign in to the web (evidence serve, /login) or call the JSON API with
an API token (Authorization: Bearer et_…). Each has one role:

  reader   may search and read (needed only when web.public is false)
  curator  may also curate collections and the weekly digest's draft
  admin    may also manage users and subscribers

Passwords are at least 12 characters and are stored as argon2id hashes; API
tokens are stored hashed and shown once, when made. These commands work on
the store directly, also while evidence serve runs: a removed user or a
changed password ends that user's web sessions at once.`,
		Args: noArgs,
	}
	cmd.AddCommand(newUsersAddCommand(a), newUsersListCommand(a), newUsersRemoveCommand(a),
		newUsersPasswdCommand(a), newUsersTokenCommand(a))
	return cmd
}

// accounts is the account service over an open store, as serve wires it.
func (a *app) accounts(cfg *config.Config, st *store.Store) *service.Accounts {
	return service.NewAccounts(service.AccountsOptions{Store: st, SessionTTL: cfg.Web.SessionTTL, Logger: a.logger()})
}

// withAccounts opens the store and runs fn with the account service.
func (a *app) withAccounts(ctx context.Context, fn func(st *store.Store, acc *service.Accounts) error) error {
	return a.withStore(ctx, func(cfg *config.Config, st *store.Store) error {
		return fn(st, a.accounts(cfg, st))
	})
}

// accountError makes the service's refusals read as the CLI's: a bad
// address, role or password is a usage error (exit 2).
func accountError(err error) error {
	if errors.Is(err, evidence.ErrInvalid) {
		return usageError{errors.New(strings.TrimSuffix(err.Error(), ": "+evidence.ErrInvalid.Error()))}
	}
	for _, sentinel := range []error{evidence.ErrNotFound, evidence.ErrConflict} {
		if errors.Is(err, sentinel) {
			return errors.New(strings.TrimSuffix(err.Error(), ": "+sentinel.Error()))
		}
	}
	return err
}

// existingUser finds the account, saying so plainly when there is none.
func existingUser(ctx context.Context, st *store.Store, email string) (store.UserRecord, error) {
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, evidence.ErrNotFound) {
		return u, fmt.Errorf("no user %s (see 'evidence users list')", strings.TrimSpace(email))
	}
	return u, err
}

func newUsersAddCommand(a *app) *cobra.Command {
	var role, passwordFile string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "add EMAIL [--role reader|curator|admin] [--password-file FILE]",
		Short: "Make an account (asks for its password twice)",
		Long: `Make an account with a role (default reader). On a terminal the password is
asked for twice, without echo; otherwise give it with --password-file: the
file's first line is the password ('-' reads it from standard input). It must
be at least 12 characters and not the e-mail address.`,
		Example: `  evidence users add librarian@trust.nhs.uk --role curator
  evidence users add admin@example.org --role admin --password-file /run/secrets/admin
  printf '%s\n' "$PASSWORD" | evidence users add ci@example.org --password-file -`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !evidence.ValidRole(role) {
				return usagef("--role %q: want reader, curator or admin", role)
			}
			addr, err := mail.NormalizeAddress(args[0])
			if err != nil {
				return usageError{err}
			}
			return a.withAccounts(cmd.Context(), func(st *store.Store, acc *service.Accounts) error {
				// Refuse a taken address before asking for a password.
				if _, err := st.UserByEmail(cmd.Context(), addr); err == nil {
					return fmt.Errorf("there is already a user %s (to change the password: evidence users passwd %s)", addr, addr)
				} else if !errors.Is(err, evidence.ErrNotFound) {
					return err
				}
				pw, err := a.newPassword(cmd, passwordFile, addr)
				if err != nil {
					return err
				}
				u, err := acc.AddUser(cmd.Context(), addr, role, pw)
				if err != nil {
					return accountError(err)
				}
				if jsonOut {
					return a.printJSON(map[string]any{"user": u})
				}
				fmt.Fprintf(a.stdout, "added %s (%s)\n", clean(u.Email), u.Role)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", evidence.RoleReader, "reader, curator or admin")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of FILE ('-': standard input)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, `print {"user":{id,email,role,created,last_login,tokens}}`)
	return cmd
}

func newUsersListCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts with their roles, API tokens and last sign-in",
		Long: `List the accounts by address. --json prints {"users":[…]}, each with id, email,
role, created, last_login (null if never) and tokens (how many API tokens).`,
		Example: `  evidence users list
  evidence users list --json | jq -r '.users[] | select(.role == "admin") | .email'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAccounts(cmd.Context(), func(_ *store.Store, acc *service.Accounts) error {
				users, err := acc.Users(cmd.Context())
				if err != nil {
					return err
				}
				if jsonOut {
					return a.printJSON(map[string]any{"users": users})
				}
				if len(users) == 0 {
					fmt.Fprintln(a.stdout, "no users (add one: evidence users add EMAIL --role admin)")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EMAIL\tROLE\tTOKENS\tLAST SIGN-IN\tSINCE")
				for _, u := range users {
					last := "never"
					if u.LastLogin != nil {
						last = u.LastLogin.Local().Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", clean(u.Email), u.Role, u.Tokens, last, u.Created.Local().Format("2006-01-02"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document")
	return cmd
}

func newUsersRemoveCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:     "remove EMAIL",
		Short:   "Delete an account, its web sessions and its API tokens",
		Example: `  evidence users remove former.colleague@trust.nhs.uk`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAccounts(cmd.Context(), func(st *store.Store, acc *service.Accounts) error {
				u, err := existingUser(cmd.Context(), st, args[0])
				if err != nil {
					return err
				}
				if err := acc.RemoveUser(cmd.Context(), u.Email); err != nil {
					return accountError(err)
				}
				if jsonOut {
					return a.printJSON(map[string]any{"removed": u.Email, "tokens": u.Tokens})
				}
				fmt.Fprintf(a.stdout, "removed %s (%s), with its sessions and %d API token(s)\n", clean(u.Email), u.Role, u.Tokens)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document")
	return cmd
}

func newUsersPasswdCommand(a *app) *cobra.Command {
	var passwordFile string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "passwd EMAIL [--password-file FILE]",
		Short: "Set an account's password and sign it out everywhere",
		Long: `Set an account's password (asked for twice on a terminal, or the first line of
--password-file; '-' reads standard input). Every web session of the account
ends: it signs in again with the new password. API tokens keep working
(revoke them with 'evidence users token EMAIL --revoke').`,
		Example: `  evidence users passwd librarian@trust.nhs.uk
  evidence users passwd ci@example.org --password-file - < new-password.txt`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAccounts(cmd.Context(), func(st *store.Store, acc *service.Accounts) error {
				u, err := existingUser(cmd.Context(), st, args[0])
				if err != nil {
					return err
				}
				pw, err := a.newPassword(cmd, passwordFile, u.Email)
				if err != nil {
					return err
				}
				ended, err := acc.SetPassword(cmd.Context(), u.Email, pw)
				if err != nil {
					return accountError(err)
				}
				if jsonOut {
					return a.printJSON(map[string]any{"email": u.Email, "sessions_ended": ended})
				}
				fmt.Fprintf(a.stdout, "password changed for %s; %d web session(s) signed out\n", clean(u.Email), ended)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of FILE ('-': standard input)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document")
	return cmd
}

func newUsersTokenCommand(a *app) *cobra.Command {
	var name string
	var revoke, jsonOut bool
	cmd := &cobra.Command{
		Use:   "token EMAIL [--name NAME] [--revoke]",
		Short: "Make an API token for an account (shown once), or revoke its tokens",
		Long: `Make an API token for scripts: it acts with the account's role, sent as
  Authorization: Bearer et_…
The token is printed once on standard output (the note about it goes to
standard error, so TOKEN=$(evidence users token …) works); only its hash is
stored, so it cannot be shown again. --name labels it (default "api").

With --revoke, delete the account's tokens: all of them, or only those
called --name. A revoked token is refused at once.`,
		Example: `  evidence users token librarian@trust.nhs.uk --name zotero-sync
  evidence users token librarian@trust.nhs.uk --name zotero-sync --revoke
  evidence users token librarian@trust.nhs.uk --revoke`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAccounts(cmd.Context(), func(st *store.Store, acc *service.Accounts) error {
				u, err := existingUser(cmd.Context(), st, args[0])
				if err != nil {
					return err
				}
				if revoke {
					n, err := acc.RevokeTokens(cmd.Context(), u.Email, name)
					if err != nil {
						return accountError(err)
					}
					if n == 0 && name != "" {
						return fmt.Errorf("%s has no API token named %q (tokens: %d)", u.Email, name, u.Tokens)
					}
					if jsonOut {
						return a.printJSON(map[string]any{"email": u.Email, "name": name, "revoked": n})
					}
					fmt.Fprintf(a.stdout, "revoked %d API token(s) of %s\n", n, clean(u.Email))
					return nil
				}
				label := strings.TrimSpace(name)
				if label == "" {
					label = "api"
				}
				tok, err := acc.NewToken(cmd.Context(), u.Email, label)
				if err != nil {
					return accountError(err)
				}
				if jsonOut {
					return a.printJSON(map[string]any{"email": u.Email, "role": u.Role, "name": label, "token": tok})
				}
				fmt.Fprintln(a.stdout, tok)
				fmt.Fprintf(a.stderr, "API token %q for %s (%s). Keep it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'.\n",
					label, clean(u.Email), u.Role)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", `the token's label (default "api"); with --revoke, revoke only tokens with this label`)
	cmd.Flags().BoolVar(&revoke, "revoke", false, "revoke the account's tokens (all, or those named --name)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, `print {"email","role","name","token"} (or {"email","name","revoked"})`)
	return cmd
}

// newPassword reads a new password for email: the first line of
// --password-file ('-' is standard input), else twice from the terminal
// without echo. With neither, it is a usage error.
func (a *app) newPassword(cmd *cobra.Command, file, email string) (string, error) {
	if file != "" {
		var r io.Reader = cmd.InOrStdin()
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return "", usagef("--password-file: %v", err)
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, 64<<10))
		if err != nil {
			return "", fmt.Errorf("--password-file %s: %w", file, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", usagef("--password-file %s: the first line (the password) is empty", file)
		}
		if err := service.CheckPassword(email, line); err != nil {
			return "", accountError(err)
		}
		return line, nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !isTerminal(in) {
		return "", usagef("no terminal to ask for the password on: give it with --password-file FILE (its first line; '-' reads standard input)")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(a.stderr, prompt)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	pw, err := ask(fmt.Sprintf("New password for %s (at least %d characters): ", email, service.MinPasswordLength))
	if err != nil {
		return "", err
	}
	if err := service.CheckPassword(email, pw); err != nil {
		return "", accountError(err)
	}
	again, err := ask("The same password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", usagef("the two passwords differ; nothing was changed")
	}
	return pw, nil
}
