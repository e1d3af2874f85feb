/** A failure said on the page, announced to screen readers; nothing when there is none. */
export function Alert({ message }: { message: string | undefined }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}
