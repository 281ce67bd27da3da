/** A long action's progress: a spinner and a text, announced politely (role="status" is aria-live). */
export function Progress({ text, testId }: { text: string | null | undefined; testId?: string }) {
  return (
    <div className="progress" role="status" data-testid={testId}>
      {text ? (
        <>
          <span className="spinner" aria-hidden="true" />
          <span>{text}</span>
        </>
      ) : null}
    </div>
  );
}
